import { IPVersion } from '@cilium-ts/proto';
import { formatIPv4, formatIPv6, formatMac } from './address-format.js';
import { icmpv4TypeCode, icmpv6TypeCode } from './icmp-names.js';

/** What the L2-L4 headers of a captured packet say, in the shape of flow.Flow's fields. */
export interface DecodedPacket {
  ethernet?: { source: string; destination: string };
  ip?: { source: string; destination: string; ipVersion: IPVersion };
  l4?: L4Init;
  sourcePort: number;
  destinationPort: number;
  /** upstream's Summary: `TCP Flags: SYN, ACK`, `ICMPv4 EchoRequest`, else the last decoded layer's name. */
  summary: string;
}

export type TcpFlags = { FIN: boolean; SYN: boolean; RST: boolean; PSH: boolean; ACK: boolean; URG: boolean; ECE: boolean; CWR: boolean; NS: boolean };

export type L4Init =
  | { protocol: { case: 'TCP'; value: { sourcePort: number; destinationPort: number; flags: TcpFlags } } }
  | { protocol: { case: 'UDP' | 'SCTP'; value: { sourcePort: number; destinationPort: number } } }
  | { protocol: { case: 'ICMPv4' | 'ICMPv6'; value: { type: number; code: number } } };

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;

function tcpFlagsText(f: TcpFlags): string {
  const out: string[] = [];
  if (f.SYN) out.push('SYN');
  if (f.ACK) out.push('ACK');
  if (f.RST) out.push('RST');
  if (f.FIN) out.push('FIN');
  if (f.PSH) out.push('PSH');
  if (f.URG) out.push('URG');
  if (f.ECE) out.push('ECE');
  if (f.CWR) out.push('CWR');
  if (f.NS) out.push('NS');
  return out.join(', ');
}

function decodeL4(p: Uint8Array, o: number, proto: number, v6: boolean, out: DecodedPacket): void {
  const left = p.length - o;
  switch (proto) {
    case PROTO_TCP: {
      if (left < 20 || ((p[o + 12] ?? 0) >> 4) * 4 < 20) return;
      const sourcePort = ((p[o] ?? 0) << 8) | (p[o + 1] ?? 0);
      const destinationPort = ((p[o + 2] ?? 0) << 8) | (p[o + 3] ?? 0);
      const b12 = p[o + 12] ?? 0;
      const b13 = p[o + 13] ?? 0;
      const flags: TcpFlags = {
        FIN: (b13 & 0x01) !== 0,
        SYN: (b13 & 0x02) !== 0,
        RST: (b13 & 0x04) !== 0,
        PSH: (b13 & 0x08) !== 0,
        ACK: (b13 & 0x10) !== 0,
        URG: (b13 & 0x20) !== 0,
        ECE: (b13 & 0x40) !== 0,
        CWR: (b13 & 0x80) !== 0,
        NS: (b12 & 0x01) !== 0,
      };
      out.l4 = { protocol: { case: 'TCP', value: { sourcePort, destinationPort, flags } } };
      out.sourcePort = sourcePort;
      out.destinationPort = destinationPort;
      out.summary = 'TCP Flags: ' + tcpFlagsText(flags);
      return;
    }
    case PROTO_UDP:
    case PROTO_SCTP: {
      if (left < (proto === PROTO_UDP ? 8 : 12)) return;
      const sourcePort = ((p[o] ?? 0) << 8) | (p[o + 1] ?? 0);
      const destinationPort = ((p[o + 2] ?? 0) << 8) | (p[o + 3] ?? 0);
      out.l4 = { protocol: { case: proto === PROTO_UDP ? 'UDP' : 'SCTP', value: { sourcePort, destinationPort } } };
      out.sourcePort = sourcePort;
      out.destinationPort = destinationPort;
      out.summary = proto === PROTO_UDP ? 'UDP' : 'SCTP';
      return;
    }
    case PROTO_ICMP:
    case PROTO_ICMPV6: {
      // ICMPv4 inside IPv6 (or the reverse) is not decoded, as with gopacket.
      if (left < 4 || v6 !== (proto === PROTO_ICMPV6)) return;
      const type = p[o] ?? 0;
      const code = p[o + 1] ?? 0;
      out.l4 = { protocol: { case: v6 ? 'ICMPv6' : 'ICMPv4', value: { type, code } } };
      out.summary = v6 ? 'ICMPv6 ' + icmpv6TypeCode(type, code) : 'ICMPv4 ' + icmpv4TypeCode(type, code);
      return;
    }
    default:
      return;
  }
}

/**
 * Decodes Ethernet, IPv4/IPv6 and TCP/UDP/SCTP/ICMP headers. Like upstream's decoder it stops at
 * the first layer it does not know (ARP, VLAN tags, IPv6 extension headers, non-first fragments)
 * or that is truncated, keeping what it decoded so far.
 */
export function decodePacket(p: Uint8Array, startsWith: 'ethernet' | 'ipv4' | 'ipv6' = 'ethernet'): DecodedPacket {
  const out: DecodedPacket = { sourcePort: 0, destinationPort: 0, summary: '' };
  let o = 0;
  let etherType: number;
  if (startsWith === 'ethernet') {
    if (p.length < 14) return out;
    out.ethernet = { source: formatMac(p, 6), destination: formatMac(p, 0) };
    out.summary = 'Ethernet';
    etherType = ((p[12] ?? 0) << 8) | (p[13] ?? 0);
    o = 14;
  } else {
    etherType = startsWith === 'ipv4' ? ETH_P_IP : ETH_P_IPV6;
  }
  if (etherType === ETH_P_IP) {
    if (p.length - o < 20) return out;
    const ihl = ((p[o] ?? 0) & 0x0f) * 4;
    if ((p[o] ?? 0) >> 4 !== 4 || ihl < 20 || p.length - o < ihl) return out;
    out.ip = { source: formatIPv4(p, o + 12), destination: formatIPv4(p, o + 16), ipVersion: IPVersion.IPv4 };
    out.summary = 'IPv4';
    const fragment = (((p[o + 6] ?? 0) << 8) | (p[o + 7] ?? 0)) & 0x3fff; // MF flag and offset
    if (fragment !== 0) return out;
    decodeL4(p, o + ihl, p[o + 9] ?? 0, false, out);
  } else if (etherType === ETH_P_IPV6) {
    if (p.length - o < 40 || (p[o] ?? 0) >> 4 !== 6) return out;
    out.ip = { source: formatIPv6(p, o + 8), destination: formatIPv6(p, o + 24), ipVersion: IPVersion.IPv6 };
    out.summary = 'IPv6';
    decodeL4(p, o + 40, p[o + 6] ?? 0, true, out);
  }
  return out;
}
