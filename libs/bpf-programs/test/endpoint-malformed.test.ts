// Truncated and malformed packets are dropped with a reason, never passed,
// even when the policy would allow everything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DropReason } from '../src/codecs/events.js';
import { upsertIpcache } from '../src/map-writers.js';
import { TC_ACT_OK, TC_ACT_SHOT, TestDatapath, type TestEndpoint } from '../src/testing/datapath-harness.js';
import { TCP_FLAGS, packet, tcp, udp } from '../src/testing/packet-builder.js';

const POD = '10.0.0.1';
const PEER = '10.0.0.2';
let dp: TestDatapath;
let ep: TestEndpoint;

beforeAll(() => {
  dp = new TestDatapath();
  ep = dp.endpoint({ id: 13, identity: 1000, ips: [POD, 'fd00::1'] });
  upsertIpcache(dp.map('cilium_ipcache'), `${PEER}/32`, { identity: 2000 });
  ep.writePolicy([{ identity: 0, direction: 'egress' }, { identity: 0, direction: 'ingress' }]);
});
afterAll(async () => {
  await dp.close();
});

function edit(data: Buffer, f: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(data);
  f(copy);
  return copy;
}

const good = tcp(POD, PEER, 40000, 80, TCP_FLAGS.syn);
const cases: Array<[string, Buffer, number]> = [
  // (BPF_PROG_TEST_RUN itself refuses frames that cannot hold an Ethernet and an IP header.)
  ['an IPv4 packet cut right after its header', good.subarray(0, 14 + 20), DropReason.invalidPacket],
  ['an IPv4 header length below 20 bytes', edit(good, (b) => b.writeUInt8(0x44, 14)), DropReason.invalidPacket],
  ['an IPv4 version that is not 4', edit(good, (b) => b.writeUInt8(0x55, 14)), DropReason.invalidPacket],
  ['an IPv4 total length beyond the frame', edit(good, (b) => b.writeUInt16BE(1400, 16)), DropReason.invalidPacket],
  ['a TCP header cut short', good.subarray(0, 14 + 20 + 12), DropReason.invalidPacket],
  ['a TCP data offset below 5 words', edit(good, (b) => b.writeUInt8(0x20, 14 + 20 + 12)), DropReason.invalidPacket],
  ['a UDP length below 8', edit(udp(POD, PEER, 1, 53), (b) => b.writeUInt16BE(4, 14 + 20 + 4)), DropReason.invalidPacket],
  ['an ICMP header cut short', packet({ src: POD, dst: PEER, l4: { proto: 'icmp', type: 8 } }).subarray(0, 14 + 20 + 4), DropReason.invalidPacket],
  ['an IPv6 packet cut right after its header', tcp('fd00::1', 'fd00::2', 1, 80).subarray(0, 14 + 40), DropReason.invalidPacket],
  ['an IPv6 payload length beyond the frame', edit(tcp('fd00::1', 'fd00::2', 1, 80), (b) => b.writeUInt16BE(900, 18)), DropReason.invalidPacket],
  ['an IPv6 extension header running past the frame', edit(tcp('fd00::1', 'fd00::2', 1, 80), (b) => b.writeUInt8(0, 20)), DropReason.invalidIpv6ExtensionHeader],
  ['an unknown ethertype (LLDP)', edit(good, (b) => b.writeUInt16BE(0x88cc, 12)), DropReason.unsupportedL3],
  ['an unknown L4 protocol (GRE)', packet({ src: POD, dst: PEER, l4: { proto: 'raw', number: 47, bytes: Buffer.alloc(8) } }), DropReason.ctUnknownL4],
  ['ICMPv6 inside IPv4', packet({ src: POD, dst: PEER, l4: { proto: 'raw', number: 58, bytes: Buffer.alloc(8) } }), DropReason.unknownL4],
  ['a non-first IPv4 fragment', edit(good, (b) => b.writeUInt16BE(0x0010, 14 + 6)), DropReason.fragmentationNotSupported],
];

describe('malformed packets', () => {
  it('the well-formed packet they are cut from passes', () => {
    expect(dp.run(ep, 'cil_from_container', good).retval).toBe(TC_ACT_OK);
  });

  for (const [name, data, reason] of cases) {
    it(`drops ${name} with reason ${reason} in both directions`, () => {
      const before = dp.metric(reason, 'egress').count + dp.metric(reason, 'ingress').count;
      expect(dp.run(ep, 'cil_from_container', data).retval).toBe(TC_ACT_SHOT);
      expect(dp.run(ep, 'cil_to_container', data).retval).toBe(TC_ACT_SHOT);
      expect(dp.metric(reason, 'egress').count + dp.metric(reason, 'ingress').count).toBe(before + 2n);
    });
  }
});
