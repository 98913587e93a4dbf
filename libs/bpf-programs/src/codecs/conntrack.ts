import { type Family, addressBytes, addressString, checkSize, defineLayout } from './struct-layout.js';

export const CT4_KEY = defineLayout('ct4_key', 16, {
  daddr: [0, 4], saddr: [4, 4], dport: [8, 2], sport: [10, 2], nexthdr: [12, 1], flags: [13, 1], pad0: [14, 2],
});
export const CT6_KEY = defineLayout('ct6_key', 40, {
  daddr: [0, 16], saddr: [16, 16], dport: [32, 2], sport: [34, 2], nexthdr: [36, 1], flags: [37, 1], pad0: [38, 2],
});
export const CT_ENTRY = defineLayout('ct_entry', 72, {
  expires: [0, 8], tx_packets: [8, 8], tx_bytes: [16, 8], rx_packets: [24, 8], rx_bytes: [32, 8],
  last_tx_report: [40, 8], last_rx_report: [48, 8], src_sec_id: [56, 4], proxy_port: [60, 2],
  tx_flags_seen: [62, 1], rx_flags_seen: [63, 1], flags: [64, 1], pad0: [65, 7],
});

/** Which endpoint side created the entry: a connection it opened (egress) or accepted (ingress). */
export type CtScope = 'egress' | 'ingress';

export const CT_F_ESTABLISHED = 0x01;
export const CT_F_TX_CLOSING = 0x02;
export const CT_F_RX_CLOSING = 0x04;
export const CT_F_PROXY = 0x08;

export interface CtTuple {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  protocol: number;
  scope: CtScope;
}

export interface CtEntry {
  /** bpf_ktime_get_ns() deadline. */
  expires: bigint;
  txPackets: bigint;
  txBytes: bigint;
  rxPackets: bigint;
  rxBytes: bigint;
  lastTxReport: bigint;
  lastRxReport: bigint;
  /** Identity of the peer when the connection was admitted. */
  remoteIdentity: number;
  proxyPort: number;
  txFlagsSeen: number;
  rxFlagsSeen: number;
  flags: number;
}

export function encodeCtKey(t: CtTuple): Buffer {
  const s = addressBytes(t.saddr);
  const d = addressBytes(t.daddr);
  if (s.family !== d.family) throw new Error(`conntrack key ${t.saddr} -> ${t.daddr}: mixed address families`);
  const L = s.family === 4 ? CT4_KEY : CT6_KEY;
  const F = L.fields;
  const buf = Buffer.alloc(L.size);
  d.bytes.copy(buf, F.daddr.offset, 0, F.daddr.size);
  s.bytes.copy(buf, F.saddr.offset, 0, F.saddr.size);
  buf.writeUInt16BE(t.dport, F.dport.offset);
  buf.writeUInt16BE(t.sport, F.sport.offset);
  buf.writeUInt8(t.protocol, F.nexthdr.offset);
  buf.writeUInt8(t.scope === 'ingress' ? 1 : 0, F.flags.offset);
  return buf;
}

export function decodeCtKey(buf: Buffer): CtTuple {
  const family: Family = buf.length === CT6_KEY.size ? 6 : 4;
  const L = family === 4 ? CT4_KEY : CT6_KEY;
  checkSize(L, buf, 'decodeCtKey');
  const F = L.fields;
  return {
    saddr: addressString(buf.subarray(F.saddr.offset, F.saddr.offset + F.saddr.size), family),
    daddr: addressString(buf.subarray(F.daddr.offset, F.daddr.offset + F.daddr.size), family),
    sport: buf.readUInt16BE(F.sport.offset),
    dport: buf.readUInt16BE(F.dport.offset),
    protocol: buf.readUInt8(F.nexthdr.offset),
    scope: buf.readUInt8(F.flags.offset) ? 'ingress' : 'egress',
  };
}

export function decodeCtEntry(buf: Buffer): CtEntry {
  checkSize(CT_ENTRY, buf, 'decodeCtEntry');
  const F = CT_ENTRY.fields;
  return {
    expires: buf.readBigUInt64LE(F.expires.offset),
    txPackets: buf.readBigUInt64LE(F.tx_packets.offset),
    txBytes: buf.readBigUInt64LE(F.tx_bytes.offset),
    rxPackets: buf.readBigUInt64LE(F.rx_packets.offset),
    rxBytes: buf.readBigUInt64LE(F.rx_bytes.offset),
    lastTxReport: buf.readBigUInt64LE(F.last_tx_report.offset),
    lastRxReport: buf.readBigUInt64LE(F.last_rx_report.offset),
    remoteIdentity: buf.readUInt32LE(F.src_sec_id.offset),
    proxyPort: buf.readUInt16BE(F.proxy_port.offset),
    txFlagsSeen: buf.readUInt8(F.tx_flags_seen.offset),
    rxFlagsSeen: buf.readUInt8(F.rx_flags_seen.offset),
    flags: buf.readUInt8(F.flags.offset),
  };
}
