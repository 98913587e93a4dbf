import { checkSize, defineLayout } from './struct-layout.js';

export const POLICY_F_DENY = 0x01;

export const POLICY_KEY = defineLayout('policy_key', 12, {
  sec_label: [0, 4], egress: [4, 1], protocol: [5, 1], dport: [6, 2], l4_prefix_len: [8, 1], pad0: [9, 3],
});
export const POLICY_ENTRY = defineLayout('policy_entry', 24, {
  proxy_port: [0, 2], flags: [2, 1], l4_prefix_len: [3, 1], pad0: [4, 4], packets: [8, 8], bytes: [16, 8],
});
/** cilium_pol_lens[0]: which l4_prefix_len values the endpoint's policy map holds. */
export const POLICY_PREFIX_SET = defineLayout('policy_prefix_set', 8, { lengths: [0, 8] });

export type TrafficDirection = 'ingress' | 'egress';

export interface PolicyKey {
  /** Peer identity; 0 matches any peer. */
  identity: number;
  direction: TrafficDirection;
  /** IP protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP, 58 ICMPv6); absent = any protocol and port. */
  protocol?: number;
  /** Destination port (for ICMP: the type); absent = any port of the protocol. */
  port?: number;
  /** Bits of `port` that must match (1..16, default 16): a masked port covers a power-of-two range. */
  portPrefixLength?: number;
}

export interface PolicyVerdictEntry {
  deny?: boolean;
  /** Redirect to this L7 proxy port. */
  proxyPort?: number;
}

export interface PolicyEntryCounters extends PolicyVerdictEntry {
  packets: bigint;
  bytes: bigint;
}

/** How much of the L4 part a key matches: 8 any protocol, 16 the protocol, 16 + n also n bits of the port. */
export function policyPrefixLength(key: PolicyKey): number {
  if (key.protocol === undefined) {
    if (key.port !== undefined) throw new Error('policy key: a port needs a protocol');
    return 8;
  }
  if (key.port === undefined) return 16;
  const bits = key.portPrefixLength ?? 16;
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) {
    throw new Error(`policy key: portPrefixLength ${bits} must be an integer from 1 to 16`);
  }
  return 16 + bits;
}

export function encodePolicyKey(key: PolicyKey): Buffer {
  const F = POLICY_KEY.fields;
  const buf = Buffer.alloc(POLICY_KEY.size);
  const l4 = policyPrefixLength(key);
  if (key.port !== undefined && (!Number.isInteger(key.port) || key.port < 0 || key.port > 0xffff)) {
    throw new Error(`policy key: port ${key.port} must be an integer from 0 to 65535`);
  }
  buf.writeUInt32LE(key.identity >>> 0, F.sec_label.offset);
  buf.writeUInt8(key.direction === 'egress' ? 1 : 0, F.egress.offset);
  buf.writeUInt8(key.protocol ?? 0, F.protocol.offset);
  const mask = l4 > 16 ? (0xffff << (32 - l4)) & 0xffff : 0;
  buf.writeUInt16BE((key.port ?? 0) & mask, F.dport.offset);
  buf.writeUInt8(l4, F.l4_prefix_len.offset);
  return buf;
}

export function decodePolicyKey(buf: Buffer): PolicyKey {
  checkSize(POLICY_KEY, buf, 'decodePolicyKey');
  const F = POLICY_KEY.fields;
  const l4 = buf.readUInt8(F.l4_prefix_len.offset);
  const key: PolicyKey = {
    identity: buf.readUInt32LE(F.sec_label.offset),
    direction: buf.readUInt8(F.egress.offset) ? 'egress' : 'ingress',
  };
  if (l4 >= 16) key.protocol = buf.readUInt8(F.protocol.offset);
  if (l4 > 16) {
    key.port = buf.readUInt16BE(F.dport.offset);
    if (l4 < 32) key.portPrefixLength = l4 - 16;
  }
  return key;
}

/** The value stored under `key` (the entry records its key's prefix length for the verdict's match type). */
export function encodePolicyEntry(key: PolicyKey, entry: PolicyVerdictEntry): Buffer {
  const F = POLICY_ENTRY.fields;
  const buf = Buffer.alloc(POLICY_ENTRY.size);
  if (entry.deny && entry.proxyPort) throw new Error('policy entry: a deny entry cannot redirect to a proxy');
  buf.writeUInt16BE(entry.proxyPort ?? 0, F.proxy_port.offset);
  buf.writeUInt8(entry.deny ? POLICY_F_DENY : 0, F.flags.offset);
  buf.writeUInt8(policyPrefixLength(key), F.l4_prefix_len.offset);
  return buf;
}

export function decodePolicyEntry(buf: Buffer): PolicyEntryCounters {
  checkSize(POLICY_ENTRY, buf, 'decodePolicyEntry');
  const F = POLICY_ENTRY.fields;
  const out: PolicyEntryCounters = {
    packets: buf.readBigUInt64LE(F.packets.offset),
    bytes: buf.readBigUInt64LE(F.bytes.offset),
  };
  if (buf.readUInt8(F.flags.offset) & POLICY_F_DENY) out.deny = true;
  const proxy = buf.readUInt16BE(F.proxy_port.offset);
  if (proxy) out.proxyPort = proxy;
  return out;
}

/** The cilium_pol_lens value for a set of keys. */
export function encodePolicyPrefixSet(keys: readonly PolicyKey[]): Buffer {
  let lengths = 0n;
  for (const k of keys) lengths |= 1n << BigInt(policyPrefixLength(k));
  const buf = Buffer.alloc(POLICY_PREFIX_SET.size);
  buf.writeBigUInt64LE(lengths, POLICY_PREFIX_SET.fields.lengths.offset);
  return buf;
}

export function decodePolicyPrefixSet(buf: Buffer): number[] {
  checkSize(POLICY_PREFIX_SET, buf, 'decodePolicyPrefixSet');
  const lengths = buf.readBigUInt64LE(POLICY_PREFIX_SET.fields.lengths.offset);
  const out: number[] = [];
  for (let n = 0; n < 64; n++) if (lengths & (1n << BigInt(n))) out.push(n);
  return out;
}
