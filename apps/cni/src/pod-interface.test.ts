import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniError } from './cni-error.js';
import { ip, ipJson, linkInfo } from '@cilium-ts/iproute';
import { createPodInterface, deletePodInterface, hostIfNameFor } from './pod-interface.js';

// A "node" namespace stands in for the node the CNI runs on, so the host's own namespace is never touched.
describe('the pod interface made by ADD', () => {
  let nodeNs: string;
  let podNs: string;
  const node = () => ({ path: `/var/run/netns/${nodeNs}` });
  const pod = () => ({ path: `/var/run/netns/${podNs}` });
  const spec = (over: Partial<Parameters<typeof createPodInterface>[0]> = {}) => ({
    host: node(),
    podNetns: pod().path,
    ifName: 'eth0',
    containerId: 'ctr-1',
    addresses: ['10.244.1.23/32'],
    gateway: '10.244.1.1',
    mtu: 1450,
    ...over,
  });
  const links = async (ns: { path: string }) => (await ipJson<Array<{ ifname: string }>>(ns, ['link', 'show'])).map((l) => l.ifname).sort();

  beforeEach(() => {
    const id = randomBytes(3).toString('hex');
    nodeNs = `cts-cni-node-${id}`;
    podNs = `cts-cni-pod-${id}`;
    execFileSync('ip', ['netns', 'add', nodeNs]);
    execFileSync('ip', ['netns', 'add', podNs]);
  });
  afterEach(() => {
    execFileSync('ip', ['netns', 'del', podNs]);
    execFileSync('ip', ['netns', 'del', nodeNs]);
  });

  it('puts an addressed, routed eth0 in the pod and an lxc veth on the node, and the pod reaches its gateway', async () => {
    const made = await createPodInterface(spec());
    expect(made.hostIfName).toBe(hostIfNameFor('ctr-1', 'eth0'));
    expect(made.hostIfName).toMatch(/^lxc[0-9a-f]{12}$/);

    const eth0 = (await linkInfo(pod(), 'eth0'))!;
    expect(eth0).toMatchObject({ mtu: 1450, operstate: 'UP', address: made.podMac });
    const routes = await ipJson<Array<{ dst: string; gateway?: string }>>(pod(), ['route', 'show']);
    expect(routes).toEqual(expect.arrayContaining([expect.objectContaining({ dst: 'default', gateway: '10.244.1.1' })]));

    // IPv4-only: the pod does not chatter over IPv6.
    expect(execFileSync('ip', ['netns', 'exec', podNs, 'sysctl', '-n', 'net.ipv6.conf.eth0.disable_ipv6']).toString().trim()).toBe('1');
    expect(execFileSync('ip', ['netns', 'exec', nodeNs, 'sysctl', '-n', `net.ipv6.conf.${made.hostIfName}.disable_ipv6`]).toString().trim()).toBe('1');

    // Give the node the gateway address and a route back, then ping across the new veth.
    await ip(node(), ['addr', 'add', '10.244.1.1/32', 'dev', made.hostIfName]);
    await ip(node(), ['route', 'add', '10.244.1.23/32', 'dev', made.hostIfName]);
    expect(() => execFileSync('ip', ['netns', 'exec', podNs, 'ping', '-c', '1', '-W', '1', '10.244.1.1'])).not.toThrow();
  });

  it('refuses a second ADD for the same interface and changes nothing', async () => {
    await createPodInterface(spec());
    const before = await links(node());
    await expect(createPodInterface(spec({ containerId: 'ctr-2' }))).rejects.toThrow(/interface already exists in the pod: eth0/);
    expect(await links(node())).toEqual(before);
  });

  it('undoes every step when one fails, leaving no interface behind', async () => {
    const err = await createPodInterface(spec({ addresses: ['10.244.1.300/32'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniError);
    expect((err as CniError).msg).toBe('failed to address the pod');
    expect(await links(node())).toEqual(['lo']);
    expect(await links(pod())).toEqual(['lo']);
  });

  it('reports a missing pod namespace as an unknown container (code 3)', async () => {
    const err = (await createPodInterface(spec({ podNetns: '/var/run/netns/no-such-ns' })).catch((e: unknown) => e)) as CniError;
    expect(err.code).toBe(3);
    expect(await links(node())).toEqual(['lo']);
  });

  it('deletes idempotently', async () => {
    await createPodInterface(spec());
    expect(await deletePodInterface(node(), 'ctr-1', 'eth0')).toBe(true);
    expect(await deletePodInterface(node(), 'ctr-1', 'eth0')).toBe(false);
    expect(await links(pod())).toEqual(['lo']);
  });
});
