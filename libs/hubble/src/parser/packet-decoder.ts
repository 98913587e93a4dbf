import { IPVersion, type Ethernet, type IP, type Layer4, type TCPFlags } from '@cilium-ts/proto';
import { formatIPv4, formatIPv6, formatMac } from './address-format.js';
import { icmpv4TypeCode, icmpv6TypeCode } from './icmp-names.js';

/**
 * What the L2-L4 headers of a captured packet say, as flow.Flow's sub-messages. They are built as
 * literals rather than with create(): this runs for every datapath event.
 */
export interface DecodedPacket {
  ethernet?: Ethernet;
  ip?: IP;
  l4?: Layer4;
  sourcePort: number;
  destinationPort: number;
  /** upstream's Summary: `TCP Flags: SYN, ACK`, `ICMPv4 EchoRequest`, else the last decoded layer's name. */
  summary: string;
}


const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;

const ipMessage = (source: string, destination: string, ipVersion: IPVersion): IP => ({
  $typeName: 'flow.IP',
  source,
  sourceXlated: '',
  destination,
  ipVersion,
  encrypted: false,
});

function tcpFlagsText(f: TCPFlags): string {
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
      const flags: TCPFlags = {
        $typeName: 'flow.TCPFlags',
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
      out.l4 = { $typeName: 'flow.Layer4', protocol: { case: 'TCP', value: { $typeName: 'flow.TCP', sourcePort, destinationPort, flags } } };
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
      out.l4 =
        proto === PROTO_UDP
          ? { $typeName: 'flow.Layer4', protocol: { case: 'UDP', value: { $typeName: 'flow.UDP', sourcePort, destinationPort } } }
          : { $typeName: 'flow.Layer4', protocol: { case: 'SCTP', value: { $typeName: 'flow.SCTP', sourcePort, destinationPort } } };
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
      out.l4 = v6
        ? { $typeName: 'flow.Layer4', protocol: { case: 'ICMPv6', value: { $typeName: 'flow.ICMPv6', type, code } } }
        : { $typeName: 'flow.Layer4', protocol: { case: 'ICMPv4', value: { $typeName: 'flow.ICMPv4', type, code } } };
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
    out.ethernet = { $typeName: 'flow.Ethernet', source: formatMac(p, 6), destination: formatMac(p, 0) };
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
    out.ip = ipMessage(formatIPv4(p, o + 12), formatIPv4(p, o + 16), IPVersion.IPv4);
    out.summary = 'IPv4';
    const fragment = (((p[o + 6] ?? 0) << 8) | (p[o + 7] ?? 0)) & 0x3fff; // MF flag and offset
    if (fragment !== 0) return out;
    decodeL4(p, o + ihl, p[o + 9] ?? 0, false, out);
  } else if (etherType === ETH_P_IPV6) {
    if (p.length - o < 40 || (p[o] ?? 0) >> 4 !== 6) return out;
    out.ip = ipMessage(formatIPv6(p, o + 8), formatIPv6(p, o + 24), IPVersion.IPv6);
    out.summary = 'IPv6';
    decodeL4(p, o + 40, p[o + 6] ?? 0, true, out);
  }
  return out;
}
