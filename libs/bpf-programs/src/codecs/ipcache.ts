import {
  type Family, addressString, checkSize, defineLayout, ipv4FromNetworkNumber, ipv4ToNetworkNumber, parsePrefix,
} from './struct-layout.js';

/** Bits of the LPM key before the address: cluster_id, pad, family. */
export const IPCACHE_STATIC_PREFIX_BITS = 32;
export const IPCACHE_F_SKIP_TUNNEL = 0x01;

export const IPCACHE_KEY = defineLayout('ipcache_key', 24, {
  prefixlen: [0, 4], cluster_id: [4, 2], pad0: [6, 1], family: [7, 1], ip: [8, 16],
});
export const IPCACHE_VALUE = defineLayout('ipcache_value', 12, {
  sec_identity: [0, 4], tunnel_endpoint: [4, 4], flags: [8, 1], pad0: [9, 3],
});

export interface IpcacheKey {
  /** "10.0.1.0/24", "fd00::5" (a bare address is a host prefix). */
  cidr: string;
  clusterId?: number;
}

export interface IpcacheValue {
  identity: number;
  /** IPv4 underlay address of the node that hosts the prefix; absent = not behind a tunnel. */
  tunnelEndpoint?: string;
  skipTunnel?: boolean;
}

export function encodeIpcacheKey(key: IpcacheKey): Buffer {
  const { family, bytes, prefixLength } = parsePrefix(key.cidr);
  const F = IPCACHE_KEY.fields;
  const buf = Buffer.alloc(IPCACHE_KEY.size);
  buf.writeUInt32LE(IPCACHE_STATIC_PREFIX_BITS + prefixLength, F.prefixlen.offset);
  buf.writeUInt16LE(key.clusterId ?? 0, F.cluster_id.offset);
  buf.writeUInt8(family, F.family.offset);
  bytes.copy(buf, F.ip.offset);
  return buf;
}

export function decodeIpcacheKey(buf: Buffer): Required<IpcacheKey> {
  checkSize(IPCACHE_KEY, buf, 'decodeIpcacheKey');
  const F = IPCACHE_KEY.fields;
  const family = buf.readUInt8(F.family.offset) as Family;
  const ip = addressString(buf.subarray(F.ip.offset, F.ip.offset + 16), family);
  const prefixLength = buf.readUInt32LE(F.prefixlen.offset) - IPCACHE_STATIC_PREFIX_BITS;
  return { cidr: `${ip}/${prefixLength}`, clusterId: buf.readUInt16LE(F.cluster_id.offset) };
}

export function encodeIpcacheValue(value: IpcacheValue): Buffer {
  const F = IPCACHE_VALUE.fields;
  const buf = Buffer.alloc(IPCACHE_VALUE.size);
  buf.writeUInt32LE(value.identity >>> 0, F.sec_identity.offset);
  buf.writeUInt32LE(value.tunnelEndpoint ? ipv4ToNetworkNumber(value.tunnelEndpoint) : 0, F.tunnel_endpoint.offset);
  buf.writeUInt8(value.skipTunnel ? IPCACHE_F_SKIP_TUNNEL : 0, F.flags.offset);
  return buf;
}

export function decodeIpcacheValue(buf: Buffer): IpcacheValue {
  checkSize(IPCACHE_VALUE, buf, 'decodeIpcacheValue');
  const F = IPCACHE_VALUE.fields;
  const tunnel = buf.readUInt32LE(F.tunnel_endpoint.offset);
  const value: IpcacheValue = { identity: buf.readUInt32LE(F.sec_identity.offset) };
  if (tunnel !== 0) value.tunnelEndpoint = ipv4FromNetworkNumber(tunnel);
  if (buf.readUInt8(F.flags.offset) & IPCACHE_F_SKIP_TUNNEL) value.skipTunnel = true;
  return value;
}
