// Byte layouts of the C structs in bpf/lib/common.h. The codecs read and write
// through these offsets only, and struct-layout.test.ts checks every layout
// against the BTF of the compiled objects, so a change to the C fails a test
// instead of silently corrupting map entries.
import ipaddr from 'ipaddr.js';

export interface FieldSpec {
  readonly offset: number;
  readonly size: number;
}

export interface StructLayout<F extends string = string> {
  /** The C struct name. */
  readonly name: string;
  readonly size: number;
  readonly fields: Readonly<Record<F, FieldSpec>>;
}

export function defineLayout<F extends string>(
  name: string,
  size: number,
  fields: Record<F, readonly [offset: number, size: number]>,
): StructLayout<F> {
  const out = {} as Record<F, FieldSpec>;
  for (const key of Object.keys(fields) as F[]) {
    const [offset, fieldSize] = fields[key];
    out[key] = { offset, size: fieldSize };
  }
  return { name, size, fields: out };
}

export type Family = 4 | 6;

/** An address as the datapath stores it: 16 bytes, IPv4 in the first 4. */
export function addressBytes(ip: string): { family: Family; bytes: Buffer } {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(ip);
  } catch (err) {
    throw new Error(`address ${JSON.stringify(ip)}: ${(err as Error).message}`, { cause: err });
  }
  const bytes = Buffer.alloc(16);
  if (addr.kind() === 'ipv4') {
    Buffer.from(addr.toByteArray()).copy(bytes, 0);
    return { family: 4, bytes };
  }
  Buffer.from(addr.toByteArray()).copy(bytes, 0);
  return { family: 6, bytes };
}

export function addressString(bytes: Buffer, family: Family): string {
  if (family === 4) return ipaddr.fromByteArray([...bytes.subarray(0, 4)]).toString();
  return ipaddr.fromByteArray([...bytes.subarray(0, 16)]).toString();
}

/** Parses "10.0.0.0/8", "fd00::/64" or a bare address (a host prefix). */
export function parsePrefix(cidr: string): { family: Family; bytes: Buffer; prefixLength: number } {
  const slash = cidr.indexOf('/');
  const ip = slash < 0 ? cidr : cidr.slice(0, slash);
  const { family, bytes } = addressBytes(ip);
  const max = family === 4 ? 32 : 128;
  const prefixLength = slash < 0 ? max : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max) {
    throw new Error(`prefix ${JSON.stringify(cidr)}: length must be an integer from 0 to ${max}`);
  }
  return { family, bytes, prefixLength };
}

/** The 4-byte network-order form of an IPv4 address, as a number. */
export function ipv4ToNetworkNumber(ip: string): number {
  const { family, bytes } = addressBytes(ip);
  if (family !== 4) throw new Error(`address ${JSON.stringify(ip)}: an IPv4 address is required`);
  return bytes.readUInt32LE(0);
}

export function ipv4FromNetworkNumber(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0, 0);
  return addressString(b, 4);
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`MAC address ${JSON.stringify(mac)}: expected six hex pairs separated by ':'`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function macString(bytes: Buffer): string {
  return [...bytes.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function checkSize(layout: StructLayout, buf: Buffer, operation: string): void {
  if (buf.length < layout.size) {
    throw new Error(`${operation}: ${layout.name} needs ${layout.size} bytes, got ${buf.length}`);
  }
}
