import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCidr } from './cidr.js';
import { Ipam, IpamError } from './ipam.js';

describe('host-scope IPAM', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'agent-ipam-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('starts after the router address and reports the gateway', async () => {
    const ipam = await Ipam.open({ podCIDR: parseCidr('10.0.1.0/24'), stateDir });
    const a = await ipam.allocateNext(4, 'x/a');
    expect(a).toEqual({ ip: '10.0.1.2', family: 4, gateway: '10.0.1.1', cidr: '10.0.1.0/24', owner: 'x/a' });
    expect((await ipam.allocateNext(4, 'x/b')).ip).toBe('10.0.1.3');
  });

  it('never hands out network, router or broadcast, and says so when the pool is exhausted', async () => {
    const ipam = await Ipam.open({ podCIDR: parseCidr('10.0.1.0/29'), stateDir });
    const ips: string[] = [];
    for (let i = 0; i < 5; i++) ips.push((await ipam.allocateNext(4, `pod-${i}`)).ip);
    expect(ips).toEqual(['10.0.1.2', '10.0.1.3', '10.0.1.4', '10.0.1.5', '10.0.1.6']);
    await expect(ipam.allocateNext(4, 'one-too-many')).rejects.toThrow('IPAM: IPv4 pool 10.0.1.0/29 is exhausted (5 addresses, all allocated)');
    await expect(ipam.allocateIp('10.0.1.7', 'x')).rejects.toThrow('is reserved');
    await expect(ipam.allocateIp('10.0.1.1', 'x')).rejects.toThrow('is reserved');
  });

  it('allocates a specific address once, and only inside the pod CIDR', async () => {
    const ipam = await Ipam.open({ podCIDR: parseCidr('10.0.1.0/24'), stateDir });
    await ipam.allocateIp('10.0.1.50', 'x/a');
    await expect(ipam.allocateIp('10.0.1.50', 'x/b')).rejects.toMatchObject({ reason: 'conflict', message: 'IPAM: 10.0.1.50 is already allocated to x/a' });
    await expect(ipam.allocateIp('10.0.2.50', 'x/b')).rejects.toThrow("not in this node's pod CIDR 10.0.1.0/24");
    await expect(ipam.allocateNext(6, 'x/b')).rejects.toThrow('IPv6 is not enabled on this node');
    await expect(ipam.release('10.0.1.51')).rejects.toBeInstanceOf(IpamError);
  });

  it('does not reuse a released address at once', async () => {
    const ipam = await Ipam.open({ podCIDR: parseCidr('10.0.1.0/24'), stateDir });
    const a = await ipam.allocateNext(4, 'x/a');
    await ipam.release(a.ip);
    expect((await ipam.allocateNext(4, 'x/b')).ip).toBe('10.0.1.3');
  });

  it('keeps allocations across a restart', async () => {
    const first = await Ipam.open({ podCIDR: parseCidr('10.0.1.0/24'), podCIDRv6: parseCidr('fd00:1::/112'), stateDir });
    await first.allocateNext(4, 'x/a');
    await first.allocateNext(6, 'x/a');
    await first.allocateNext(4, 'x/b');
    const restarted = await Ipam.open({ podCIDR: parseCidr('10.0.1.0/24'), podCIDRv6: parseCidr('fd00:1::/112'), stateDir });
    expect(restarted.allocations()).toEqual({ '10.0.1.2': 'x/a', '10.0.1.3': 'x/b', 'fd00:1::2': 'x/a' });
    expect(await restarted.releaseOwner('x/a')).toEqual(['10.0.1.2', 'fd00:1::2']);
    expect(restarted.count(4)).toBe(1);
    expect(restarted.capacity(4)).toBe(253n);
  });
});
