import { describe, expect, it } from 'vitest';
import { CniError, CniErrorCode } from './cni-error.js';
import type { Invocation } from './invocation.js';
import type { NetConf } from './net-conf.js';
import { encodeResult } from './result.js';
import { runPlugin, type CniHandlers } from './skel.js';

const env = (command: string, extra: Record<string, string> = {}) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c0ffee',
  CNI_NETNS: '/var/run/netns/pod',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'K8S_POD_NAMESPACE=x;K8S_POD_NAME=a',
  ...extra,
});
const conf = (over: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.1.0', name: 'cilium', type: 'cilium-cni', ...over });

/** Handlers that record what the skeleton passed them. */
function recording() {
  const calls: Array<{ command: string; inv: Invocation; conf: NetConf }> = [];
  const rec = (command: string) => async (inv: Invocation, c: NetConf) => {
    calls.push({ command, inv, conf: c });
  };
  const handlers: CniHandlers = {
    add: async (inv, c) => {
      calls.push({ command: 'ADD', inv, conf: c });
      return encodeResult({ ips: [{ address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 0 }], interfaces: [{ name: 'eth0', mtu: 1450 }] }, c.cniVersion);
    },
    del: rec('DEL'),
    check: rec('CHECK'),
    status: rec('STATUS'),
    gc: rec('GC'),
  };
  return { calls, handlers };
}

const error = (stdout: string) => JSON.parse(stdout) as { code: number; msg: string; details?: string; cniVersion: string };

describe('the CNI protocol around the plugin', () => {
  it('VERSION lists the supported spec versions and echoes the asked version', async () => {
    const out = await runPlugin(recording().handlers, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  });

  it('passes CNI_ARGS and the negotiated version to ADD, and prints its result', async () => {
    const { calls, handlers } = recording();
    const out = await runPlugin(handlers, env('ADD'), conf({ cniVersions: ['0.4.0', '1.0.0'], cniVersion: '0.4.0' }));
    expect(out.exitCode).toBe(0);
    expect(calls[0]!.inv.args).toEqual({ K8S_POD_NAMESPACE: 'x', K8S_POD_NAME: 'a' });
    expect(calls[0]!.conf.cniVersion).toBe('1.0.0');
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mtu: 1450 }],
      ips: [{ address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 0 }],
    });
  });

  it('tags IPs with their family and drops MTUs for a 0.4.0 runtime', async () => {
    const out = await runPlugin(recording().handlers, env('ADD'), conf({ cniVersion: '0.4.0' }));
    expect(JSON.parse(out.stdout)).toEqual({
      cniVersion: '0.4.0',
      interfaces: [{ name: 'eth0' }],
      ips: [{ version: '4', address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 0 }],
    });
  });

  it.each([
    ['an unsupported version', env('ADD'), conf({ cniVersion: '0.3.1' }), 1, 'incompatible CNI versions'],
    ['no cniVersion at all (0.1.0)', env('ADD'), JSON.stringify({ name: 'cilium', type: 'cilium-cni' }), 1, 'incompatible CNI versions'],
    ['a missing CNI_NETNS on ADD', env('ADD', { CNI_NETNS: '' }), conf(), 4, 'required env variables [CNI_NETNS] missing'],
    ['a missing CNI_COMMAND', { CNI_IFNAME: 'eth0' }, conf(), 4, 'required env variables [CNI_COMMAND] missing'],
    ['an interface name over 15 characters', env('ADD', { CNI_IFNAME: 'a-very-long-ifname' }), conf(), 4, 'invalid CNI_IFNAME'],
    ['a container id with a slash', env('ADD', { CNI_CONTAINERID: 'a/b' }), conf(), 4, 'invalid CNI_CONTAINERID'],
    ['stdin that is not JSON', env('ADD'), '{"cniVersion": ', 6, 'failed to decode network configuration from stdin'],
    ['a config without a name', env('ADD'), JSON.stringify({ cniVersion: '1.1.0', type: 'cilium-cni' }), 7, 'invalid network configuration'],
    ['CHECK below 0.4.0 is refused by version first', env('CHECK'), conf({ cniVersion: '0.3.0' }), 1, 'incompatible CNI versions'],
    ['STATUS on a 1.0.0 config', env('STATUS'), conf({ cniVersion: '1.0.0' }), 1, 'config version does not allow STATUS'],
    ['GC on a 1.0.0 config', env('GC'), conf({ cniVersion: '1.0.0' }), 1, 'config version does not allow GC'],
  ])('refuses %s with code %#', async (_what, e, stdin, code, msg) => {
    const { calls, handlers } = recording();
    const out = await runPlugin(handlers, e, stdin);
    expect(out.exitCode).toBe(1);
    expect(error(out.stdout)).toMatchObject({ code, msg });
    expect(calls).toEqual([]);
  });

  it('names every problem of a config in one error', async () => {
    const out = await runPlugin(recording().handlers, env('ADD'), JSON.stringify({ cniVersion: '1.1.0', name: 'bad name!', mtu: 70000 }));
    expect(error(out.stdout).details).toBe('name: "bad name!" must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$; mtu: 70000 is not an integer between 576 and 9000');
  });

  it('turns a handler failure into the spec error result, keeping the handler code', async () => {
    const handlers = {
      ...recording().handlers,
      del: async () => {
        throw new CniError(CniErrorCode.TryAgainLater, 'cilium agent is not reachable', 'nothing answers on /x.sock');
      },
    };
    const out = await runPlugin(handlers, env('DEL'), conf());
    expect(out.exitCode).toBe(1);
    expect(error(out.stdout)).toEqual({ cniVersion: '1.1.0', code: 11, msg: 'cilium agent is not reachable', details: 'nothing answers on /x.sock' });
  });
});
