import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig, ConfigError, configToMap, loadConfig } from './config.js';

describe('agent configuration', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("fills in upstream's defaults around the required pod CIDR", () => {
    const c = buildConfig({ 'node-name': 'node-1', 'pod-cidr': '10.0.1.0/24' });
    expect(c).toMatchObject({
      nodeName: 'node-1',
      routingMode: 'vxlan',
      socketPath: '/var/run/cilium/cilium.sock',
      stateDir: '/var/run/cilium/state',
      bpfRoot: '/sys/fs/bpf/cilium-ts/node-1',
      hubbleSocketPath: '/var/run/cilium/hubble.sock',
      hubblePort: 4244,
      metricsAddress: ':9962',
      policyEnforcement: 'default',
      clusterName: 'default',
      kvstoreEndpoints: [],
    });
    expect(c.podCIDR.text).toBe('10.0.1.0/24');
  });

  it('names the field and the reason for every invalid value', () => {
    const base = { 'node-name': 'n1', 'pod-cidr': '10.0.1.0/24' };
    const cases: [Record<string, unknown>, string][] = [
      [{ 'node-name': 'n1' }, 'pod-cidr: is required'],
      [{ ...base, 'routing-mode': 'geneve' }, 'routing-mode: must be one of vxlan|native, got "geneve"'],
      [{ ...base, 'pod-cidr': 'fd00::/64' }, 'pod-cidr: must be an IPv4 CIDR'],
      [{ ...base, 'policy-enforcement': 'sometimes' }, 'policy-enforcement: must be one of default|always|never'],
      [{ ...base, 'hubble-port': 70000 }, 'hubble-port: must be a port number'],
      [{ ...base, 'node-ip': '10.0.0.300' }, 'node-ip: must be an IP address'],
      [{ ...base, 'kvstore-endpoints': ['not a url'] }, 'kvstore-endpoints[0]: must be a URL'],
      [{ ...base, 'socket-path': 'relative.sock' }, 'socket-path: must be an absolute path'],
      [{ ...base, 'node-name': 'Node_1' }, 'node-name: must be a DNS-1123 name'],
      [{ ...base, 'pod-cidrs': 'x' }, 'pod-cidrs: unknown option'],
      [{ ...base, 'metrics-address': 'localhost' }, 'metrics-address: must be [host]:port'],
    ];
    for (const [raw, message] of cases) {
      expect(() => buildConfig(raw), message).toThrow(message);
    }
    expect(() => buildConfig({})).toThrow(ConfigError);
  });

  it('reads a YAML file and lets flags override it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-config-'));
    const file = join(dir, 'agent.yaml');
    await writeFile(
      file,
      ['node-name: node-2', 'pod-cidr: 10.0.2.0/24', 'routing-mode: native', 'kvstore-endpoints: [http://127.0.0.1:2379]', "metrics-address: ''"].join('\n'),
    );
    const c = await loadConfig({ file, flags: { 'routing-mode': 'vxlan', 'cluster-name': undefined } });
    expect(c.routingMode).toBe('vxlan');
    expect(c.kvstoreEndpoints).toEqual(['http://127.0.0.1:2379']);
    expect(c.metricsAddress).toBe('');
    expect(configToMap(c)['pod-cidr']).toBe('10.0.2.0/24');
  });

  it('names the file when it is not a mapping', async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-config-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, '- a\n- b\n');
    await expect(loadConfig({ file })).rejects.toThrow(`${file} must hold a mapping`);
    await writeFile(file, 'pod-cidr: 10.0.9.1/24\nnode-name: n\n');
    await expect(loadConfig({ file })).rejects.toThrow(`${file}: pod-cidr: host bits are set`);
  });
});
