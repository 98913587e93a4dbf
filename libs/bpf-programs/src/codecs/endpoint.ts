import { type Family, addressBytes, addressString, checkSize, defineLayout, macBytes, macString } from './struct-layout.js';

export const ENDPOINT_KEY = defineLayout('endpoint_key', 20, { ip: [0, 16], family: [16, 1], pad0: [17, 3] });
export const ENDPOINT_INFO = defineLayout('endpoint_info', 24, {
  ifindex: [0, 4], lxc_id: [4, 2], flags: [6, 2], mac: [8, 6], node_mac: [14, 6], sec_identity: [20, 4],
});

/** A local endpoint as cilium_lxc knows it (keyed by each of its IPs). */
export interface EndpointInfo {
  /** ifindex of the host-side veth. */
  ifindex: number;
  endpointId: number;
  /** The pod's MAC and the host-side veth's MAC. */
  mac: string;
  nodeMac: string;
  identity: number;
  flags?: number;
}

export function encodeEndpointKey(ip: string): Buffer {
  const { family, bytes } = addressBytes(ip);
  const F = ENDPOINT_KEY.fields;
  const buf = Buffer.alloc(ENDPOINT_KEY.size);
  bytes.copy(buf, F.ip.offset);
  buf.writeUInt8(family, F.family.offset);
  return buf;
}

export function decodeEndpointKey(buf: Buffer): string {
  checkSize(ENDPOINT_KEY, buf, 'decodeEndpointKey');
  const F = ENDPOINT_KEY.fields;
  return addressString(buf.subarray(F.ip.offset, F.ip.offset + 16), buf.readUInt8(F.family.offset) as Family);
}

export function encodeEndpointInfo(info: EndpointInfo): Buffer {
  const F = ENDPOINT_INFO.fields;
  const buf = Buffer.alloc(ENDPOINT_INFO.size);
  buf.writeUInt32LE(info.ifindex, F.ifindex.offset);
  buf.writeUInt16LE(info.endpointId, F.lxc_id.offset);
  buf.writeUInt16LE(info.flags ?? 0, F.flags.offset);
  macBytes(info.mac).copy(buf, F.mac.offset);
  macBytes(info.nodeMac).copy(buf, F.node_mac.offset);
  buf.writeUInt32LE(info.identity >>> 0, F.sec_identity.offset);
  return buf;
}

export function decodeEndpointInfo(buf: Buffer): EndpointInfo {
  checkSize(ENDPOINT_INFO, buf, 'decodeEndpointInfo');
  const F = ENDPOINT_INFO.fields;
  return {
    ifindex: buf.readUInt32LE(F.ifindex.offset),
    endpointId: buf.readUInt16LE(F.lxc_id.offset),
    flags: buf.readUInt16LE(F.flags.offset),
    mac: macString(buf.subarray(F.mac.offset)),
    nodeMac: macString(buf.subarray(F.node_mac.offset)),
    identity: buf.readUInt32LE(F.sec_identity.offset),
  };
}
