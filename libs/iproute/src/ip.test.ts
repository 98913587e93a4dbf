import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, ipBatch, ipJson, linkInfo } from './ip.js';

describe('ip in a namespace given by its file', () => {
  const name = `cts-iproute-${randomBytes(3).toString('hex')}`;
  const ns = { path: `/var/run/netns/${name}` };
  beforeAll(() => execFileSync('ip', ['netns', 'add', name]));
  afterAll(() => execFileSync('ip', ['netns', 'del', name]));

  it('creates, reads back as JSON and deletes a link inside the namespace only', async () => {
    await ip(ns, ['link', 'add', 'dummy0', 'type', 'veth', 'peer', 'name', 'dummy1']);
    expect(await linkInfo(ns, 'dummy0')).toMatchObject({ ifname: 'dummy0', mtu: 1500 });
    expect(await linkInfo({}, 'dummy0')).toBeUndefined();
    const addrs = await ipJson<Array<{ ifname: string }>>(ns, ['addr', 'show']);
    expect(addrs.map((a) => a.ifname)).toContain('dummy0');
  });

  it("reports a failure with ip's own message and the command", async () => {
    await expect(ip(ns, ['link', 'del', 'nothing0'])).rejects.toThrow(/^ip link del nothing0: Cannot find device "nothing0"/);
    expect(await linkInfo(ns, 'nothing0')).toBeUndefined();
  });

  it('runs a batch in one process and names the command that failed', async () => {
    await ipBatch(ns, [
      ['link', 'add', 'b0', 'type', 'veth', 'peer', 'name', 'b1'],
      ['link', 'set', 'b0', 'up'],
    ]);
    expect((await linkInfo(ns, 'b0'))?.operstate).not.toBe('DOWN');
    await expect(ipBatch(ns, [['link', 'set', 'b1', 'up'], ['link', 'set', 'nothing9', 'up']])).rejects.toThrow(/^ip link set nothing9 up: Cannot find device "nothing9"/);
    await expect(ipBatch(ns, [['addr', 'add', '10.0.0.300/32', 'dev', 'b1']])).rejects.toThrow(/10\.0\.0\.300\/32/);
  });
});
