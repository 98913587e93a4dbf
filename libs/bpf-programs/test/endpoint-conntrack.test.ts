// Connection tracking in the endpoint program: established and reply traffic
// pass without a policy lookup; ICMP echo replies and ICMP errors are matched
// to the connection they belong to.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CT_F_ESTABLISHED, CT_F_TX_CLOSING, decodeCtEntry, encodeCtKey } from '../src/codecs/conntrack.js';
import { upsertIpcache } from '../src/map-writers.js';
import { TC_ACT_OK, TC_ACT_SHOT, TestDatapath, type TestEndpoint } from '../src/testing/datapath-harness.js';
import { IPPROTO, TCP_FLAGS, ipPacket, packet, tcp, udp } from '../src/testing/packet-builder.js';

const POD = '10.0.0.1';
const PEER = '10.0.0.2';
const { syn, ack, fin } = TCP_FLAGS;

let dp: TestDatapath;
let ep: TestEndpoint;
const out = (data: Buffer) => dp.run(ep, 'cil_from_container', data).retval;
const into = (data: Buffer) => dp.run(ep, 'cil_to_container', data).retval;

beforeEach(() => {
  dp = new TestDatapath();
  ep = dp.endpoint({ id: 12, identity: 1000, ips: [POD, 'fd00::1'] });
  upsertIpcache(dp.map('cilium_ipcache'), `${PEER}/32`, { identity: 2000 });
  upsertIpcache(dp.map('cilium_ipcache'), 'fd00::2', { identity: 2000 });
});
afterEach(async () => {
  await dp.close();
});

describe('conntrack', () => {
  it('lets replies of an accepted connection out even when egress denies everything', () => {
    ep.writePolicy([{ identity: 2000, direction: 'ingress', protocol: IPPROTO.tcp, port: 80 }]);
    expect(into(tcp(PEER, POD, 50000, 80, syn))).toBe(TC_ACT_OK);
    expect(out(tcp(POD, PEER, 80, 50000, syn | ack))).toBe(TC_ACT_OK);   // reply
    expect(into(tcp(PEER, POD, 50000, 80, ack))).toBe(TC_ACT_OK);         // established
    expect(out(tcp(POD, PEER, 80, 50000, ack))).toBe(TC_ACT_OK);
    // A connection the pod opens itself is new, and egress has no allow.
    expect(out(tcp(POD, PEER, 50001, 80, syn))).toBe(TC_ACT_SHOT);

    const entry = dp.map('cilium_ct4_global').lookup(
      encodeCtKey({ saddr: PEER, daddr: POD, sport: 50000, dport: 80, protocol: IPPROTO.tcp, scope: 'ingress' }));
    expect(entry).toBeDefined();
    const ct = decodeCtEntry(entry as Buffer);
    expect(ct).toMatchObject({ txPackets: 2n, rxPackets: 2n, remoteIdentity: 2000, txFlagsSeen: syn, rxFlagsSeen: syn });
    expect(ct.flags & CT_F_ESTABLISHED).toBe(CT_F_ESTABLISHED);
  });

  it('keeps SYN-only connections for 60 s, established ones for 6 h and closing ones for 10 s', () => {
    ep.writePolicy([{ identity: 0, direction: 'egress' }]);
    const key = encodeCtKey({ saddr: POD, daddr: PEER, sport: 50002, dport: 80, protocol: IPPROTO.tcp, scope: 'egress' });
    const lifetime = () => {
      const ct = decodeCtEntry(dp.map('cilium_ct4_global').lookup(key) as Buffer);
      return { ct, left: Number(ct.expires - process.hrtime.bigint()) / 1e9 };
    };
    out(tcp(POD, PEER, 50002, 80, syn));
    // bpf_ktime_get_ns and hrtime share CLOCK_MONOTONIC.
    expect(lifetime().left).toBeGreaterThan(50);
    expect(lifetime().left).toBeLessThanOrEqual(60);
    into(tcp(PEER, POD, 80, 50002, syn | ack));
    out(tcp(POD, PEER, 50002, 80, ack));
    expect(lifetime().left).toBeGreaterThan(6 * 3600 - 10);
    out(tcp(POD, PEER, 50002, 80, fin | ack));
    const closing = lifetime();
    expect(closing.ct.flags & CT_F_TX_CLOSING).toBe(CT_F_TX_CLOSING);
    expect(closing.left).toBeLessThanOrEqual(10);
  });

  it('re-checks policy when a closed connection is reopened with a new SYN', () => {
    ep.writePolicy([{ identity: 2000, direction: 'egress', protocol: IPPROTO.tcp, port: 80 }]);
    expect(out(tcp(POD, PEER, 50003, 80, syn))).toBe(TC_ACT_OK);
    expect(out(tcp(POD, PEER, 50003, 80, TCP_FLAGS.rst))).toBe(TC_ACT_OK);
    ep.writePolicy([]);
    // Stragglers of the closing connection still pass until it times out...
    expect(into(tcp(PEER, POD, 80, 50003, ack))).toBe(TC_ACT_OK);
    // ...but a new SYN on the same tuple is a new connection, and nothing allows it now.
    expect(out(tcp(POD, PEER, 50003, 80, syn))).toBe(TC_ACT_SHOT);
  });

  it('matches ICMP echo replies to their request, and nothing else', () => {
    ep.writePolicy([{ identity: 2000, direction: 'egress', protocol: IPPROTO.icmp, port: 8 }]);
    expect(out(packet({ src: POD, dst: PEER, l4: { proto: 'icmp', type: 8, id: 77, seq: 1 } }))).toBe(TC_ACT_OK);
    expect(into(packet({ src: PEER, dst: POD, l4: { proto: 'icmp', type: 0, id: 77, seq: 1 } }))).toBe(TC_ACT_OK);
    expect(into(packet({ src: PEER, dst: POD, l4: { proto: 'icmp', type: 0, id: 78, seq: 1 } }))).toBe(TC_ACT_SHOT);
    // ICMP echo is type 8 in the policy; a timestamp request (13) is not allowed.
    expect(out(packet({ src: POD, dst: PEER, l4: { proto: 'icmp', type: 13, id: 1 } }))).toBe(TC_ACT_SHOT);
  });

  it('lets an ICMP error about an allowed connection in as related', async () => {
    dp.watchEvents();
    ep.writePolicy([{ identity: 2000, direction: 'egress', protocol: IPPROTO.udp, port: 53 }]);
    const query = { src: POD, dst: PEER, l4: { proto: 'udp' as const, sport: 41000, dport: 53 } };
    expect(out(packet(query))).toBe(TC_ACT_OK);
    const unreachable = (inner: Buffer) =>
      packet({ src: PEER, dst: POD, l4: { proto: 'icmp', type: 3, code: 3, inner: inner.subarray(0, 28) } });
    expect(into(unreachable(ipPacket(query)))).toBe(TC_ACT_OK);
    await expect.poll(() => dp.events.some((e) => e.kind === 'trace' && e.reason === 3)).toBe(true);
    // An error about a connection nobody made is a new flow, and ingress allows nothing.
    expect(into(unreachable(ipPacket({ ...query, l4: { proto: 'udp', sport: 41001, dport: 53 } })))).toBe(TC_ACT_SHOT);
  });

  it('tracks IPv6 connections and ICMPv6 echo', () => {
    ep.writePolicy([
      { identity: 2000, direction: 'egress', protocol: IPPROTO.tcp, port: 80 },
      { identity: 2000, direction: 'egress', protocol: IPPROTO.icmpv6, port: 128 },
    ]);
    expect(out(tcp('fd00::1', 'fd00::2', 50000, 80, syn))).toBe(TC_ACT_OK);
    expect(out(tcp('fd00::1', 'fd00::2', 50001, 81, syn))).toBe(TC_ACT_SHOT);
    expect(into(tcp('fd00::2', 'fd00::1', 80, 50000, syn | ack))).toBe(TC_ACT_OK);
    expect(out(packet({ src: 'fd00::1', dst: 'fd00::2', l4: { proto: 'icmpv6', type: 128, id: 5 } }))).toBe(TC_ACT_OK);
    expect(into(packet({ src: 'fd00::2', dst: 'fd00::1', l4: { proto: 'icmpv6', type: 129, id: 5 } }))).toBe(TC_ACT_OK);
    // Neighbor discovery is never subject to policy.
    expect(out(packet({ src: 'fd00::1', dst: 'fd00::2', l4: { proto: 'icmpv6', type: 135 } }))).toBe(TC_ACT_OK);
    expect(dp.map('cilium_ct6_global').lookup(encodeCtKey({
      saddr: 'fd00::1', daddr: 'fd00::2', sport: 50000, dport: 80, protocol: IPPROTO.tcp, scope: 'egress',
    }))).toBeDefined();
  });

  it('walks IPv6 extension headers to find the ports', () => {
    ep.writePolicy([{ identity: 2000, direction: 'egress', protocol: IPPROTO.udp, port: 53 }]);
    const plain = udp('fd00::1', 'fd00::2', 41000, 53);
    // Insert an 8-byte hop-by-hop header (next header UDP) after the IPv6 header.
    const hop = Buffer.from([IPPROTO.udp, 0, 1, 4, 0, 0, 0, 0]);
    const withHop = Buffer.concat([plain.subarray(0, 54), hop, plain.subarray(54)]);
    withHop.writeUInt8(0, 14 + 6);
    withHop.writeUInt16BE(plain.length - 54 + 8, 14 + 4);
    expect(out(withHop)).toBe(TC_ACT_OK);
    const toOtherPort = Buffer.from(withHop);
    toOtherPort.writeUInt16BE(54, 54 + 8 + 2);
    expect(out(toOtherPort)).toBe(TC_ACT_SHOT);
  });
});
