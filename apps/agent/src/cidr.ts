// Address arithmetic for the node's pod CIDRs. Parsing is ipaddr.js's; addresses become bigints so that
// IPv4 and IPv6 pools share one allocator.
import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

export interface Cidr {
  /** Canonical text, network address first: 10.0.1.0/24. */
  readonly text: string;
  readonly family: IpFamily;
  readonly prefixLength: number;
  readonly network: bigint;
  /** Number of addresses in the prefix. */
  readonly size: bigint;
}

function familyOf(addr: ipaddr.IPv4 | ipaddr.IPv6): IpFamily {
  return addr.kind() === 'ipv4' ? 4 : 6;
}

function bytesToBigInt(bytes: number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function parseIp(text: string): { family: IpFamily; value: bigint } {
  if (!ipaddr.isValid(text)) throw new Error(`"${text}" is not an IP address`);
  const addr = ipaddr.parse(text);
  return { family: familyOf(addr), value: bytesToBigInt(addr.toByteArray()) };
}

export function formatIp(value: bigint, family: IpFamily): string {
  const len = family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = len - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Parses "a.b.c.d/len"; host bits must be zero so that a typo in the network is not silently widened. */
export function parseCidr(text: string): Cidr {
  if (!ipaddr.isValidCIDR(text)) throw new Error('not a CIDR (expected address/prefix-length)');
  const [addr, prefixLength] = ipaddr.parseCIDR(text);
  const family = familyOf(addr);
  const bits = family === 4 ? 32 : 128;
  const value = bytesToBigInt(addr.toByteArray());
  const size = 1n << BigInt(bits - prefixLength);
  const network = value & ~(size - 1n);
  if (network !== value) throw new Error(`host bits are set; did you mean ${formatIp(network, family)}/${prefixLength}?`);
  return { text: `${formatIp(network, family)}/${prefixLength}`, family, prefixLength, network, size };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const parsed = parseIp(ip);
  return parsed.family === cidr.family && parsed.value >= cidr.network && parsed.value < cidr.network + cidr.size;
}
