// Crafted packets for BPF_PROG_TEST_RUN: Ethernet frames with IPv4/IPv6 and
// TCP, UDP, SCTP, ICMP or ICMPv6, built byte by byte so tests can also cut
// and corrupt them.
import { addressBytes, macBytes } from '../codecs/struct-layout.js';

export const IPPROTO = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 } as const;
export const TCP_FLAGS = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10 } as const;

export type L4 =
  | { proto: 'tcp'; sport: number; dport: number; flags?: number }
  | { proto: 'udp' | 'sctp'; sport: number; dport: number }
  | { proto: 'icmp' | 'icmpv6'; type: number; code?: number; id?: number; seq?: number; inner?: Buffer }
  | { proto: 'raw'; number: number; bytes: Buffer };

export interface PacketSpec {
  src: string;
  dst: string;
  l4: L4;
  payload?: Buffer;
  srcMac?: string;
  dstMac?: string;
  ttl?: number;
}

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += (buf[buf.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function l4Bytes(l4: L4, payload: Buffer): { proto: number; bytes: Buffer } {
  switch (l4.proto) {
    case 'tcp': {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(l4.sport, 0);
      h.writeUInt16BE(l4.dport, 2);
      h.writeUInt32BE(1, 4);
      h.writeUInt8(5 << 4, 12);
      h.writeUInt8(l4.flags ?? TCP_FLAGS.ack, 13);
      h.writeUInt16BE(65535, 14);
      return { proto: IPPROTO.tcp, bytes: Buffer.concat([h, payload]) };
    }
    case 'udp': {
      const h = Buffer.alloc(8);
      h.writeUInt16BE(l4.sport, 0);
      h.writeUInt16BE(l4.dport, 2);
      h.writeUInt16BE(8 + payload.length, 4);
      return { proto: IPPROTO.udp, bytes: Buffer.concat([h, payload]) };
    }
    case 'sctp': {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(l4.sport, 0);
      h.writeUInt16BE(l4.dport, 2);
      return { proto: IPPROTO.sctp, bytes: Buffer.concat([h, payload]) };
    }
    case 'icmp':
    case 'icmpv6': {
      const h = Buffer.alloc(8);
      h.writeUInt8(l4.type, 0);
      h.writeUInt8(l4.code ?? 0, 1);
      h.writeUInt16BE(l4.id ?? 0, 4);
      h.writeUInt16BE(l4.seq ?? 0, 6);
      const body = Buffer.concat([h, l4.inner ?? payload]);
      body.writeUInt16BE(checksum(body), 2);
      return { proto: l4.proto === 'icmp' ? IPPROTO.icmp : IPPROTO.icmpv6, bytes: body };
    }
    case 'raw':
      return { proto: l4.number, bytes: Buffer.concat([l4.bytes, payload]) };
  }
}

/** The IP packet without the Ethernet header (what an ICMP error embeds). */
export function ipPacket(spec: PacketSpec): Buffer {
  const { proto, bytes } = l4Bytes(spec.l4, spec.payload ?? Buffer.alloc(0));
  const s = addressBytes(spec.src);
  const d = addressBytes(spec.dst);
  if (s.family !== d.family) throw new Error(`packet ${spec.src} -> ${spec.dst}: mixed address families`);
  if (s.family === 4) {
    const h = Buffer.alloc(20);
    h.writeUInt8(0x45, 0);
    h.writeUInt16BE(20 + bytes.length, 2);
    h.writeUInt8(spec.ttl ?? 64, 8);
    h.writeUInt8(proto, 9);
    s.bytes.copy(h, 12, 0, 4);
    d.bytes.copy(h, 16, 0, 4);
    h.writeUInt16BE(checksum(h), 10);
    return Buffer.concat([h, bytes]);
  }
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(bytes.length, 4);
  h.writeUInt8(proto, 6);
  h.writeUInt8(spec.ttl ?? 64, 7);
  s.bytes.copy(h, 8);
  d.bytes.copy(h, 24);
  return Buffer.concat([h, bytes]);
}

/** A full Ethernet frame. */
export function packet(spec: PacketSpec): Buffer {
  const ip = ipPacket(spec);
  const eth = Buffer.alloc(14);
  macBytes(spec.dstMac ?? '02:00:00:00:00:02').copy(eth, 0);
  macBytes(spec.srcMac ?? '02:00:00:00:00:01').copy(eth, 6);
  eth.writeUInt16BE((ip[0] ?? 0) >> 4 === 6 ? 0x86dd : 0x0800, 12);
  return Buffer.concat([eth, ip]);
}

export function tcp(src: string, dst: string, sport: number, dport: number, flags: number = TCP_FLAGS.ack): Buffer {
  return packet({ src, dst, l4: { proto: 'tcp', sport, dport, flags } });
}

export function udp(src: string, dst: string, sport: number, dport: number): Buffer {
  return packet({ src, dst, l4: { proto: 'udp', sport, dport } });
}
