import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built executable, run the way a container runtime runs it.
const bin = fileURLToPath(new URL('../bin/cilium-cni.js', import.meta.url));
const run = (env: Record<string, string>, stdin: string) => spawnSync(process.execPath, [bin], { env: { PATH: process.env.PATH, ...env }, input: stdin, encoding: 'utf8' });

describe('cilium-cni as an executable', () => {
  it('answers VERSION', () => {
    const r = run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.1.0"}');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).supportedVersions).toContain('1.1.0');
  });

  it('reports an unreachable agent with its own error, code 11, naming the socket', () => {
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'cilium', type: 'cilium-cni', 'agent-socket': '/tmp/no-such-cilium.sock' });
    const r = run({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/var/run/netns/none', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' }, conf);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 11, msg: 'cilium agent is not reachable', details: expect.stringContaining('/tmp/no-such-cilium.sock') });
  });

  it('reports STATUS 50 while the agent is down', () => {
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'cilium', type: 'cilium-cni', 'agent-socket': '/tmp/no-such-cilium.sock' });
    const r = run({ CNI_COMMAND: 'STATUS' }, conf);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).code).toBe(50);
  });

  it('prints what it is, on stderr, without CNI_COMMAND', () => {
    const r = run({}, '');
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/cilium-cni: the cilium-ts CNI plugin/);
  });
});
