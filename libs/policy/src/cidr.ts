// CIDR prefixes and the containment test the policy needs (CIDR selectors with `except`).
import ipaddr from 'ipaddr.js';

export interface Prefix {
  readonly family: 4 | 6;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly length: number;
  /** Canonical text, network address with host bits cleared: `10.0.0.0/8`. */
  readonly text: string;
}

/** Parses `10.0.0.0/8`, `::/0` or a bare address (a /32 or /128). Returns undefined when invalid. */
export function parsePrefix(text: string): Prefix | undefined {
  try {
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    let length: number;
    if (text.includes('/')) {
      if (!ipaddr.isValidCIDR(text)) return undefined;
      [address, length] = ipaddr.parseCIDR(text);
    } else {
      if (!ipaddr.isValid(text)) return undefined;
      address = ipaddr.parse(text);
      length = address.kind() === 'ipv4' ? 32 : 128;
    }
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) return undefined;
    const family = address.kind() === 'ipv4' ? 4 : 6;
    const network =
      family === 4
        ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${length}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${length}`);
    return { family, address: network, length, text: `${network.toString()}/${length}` };
  } catch {
    return undefined;
  }
}

/** Whether `inner` lies within `outer` (equal prefixes contain each other). */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || inner.length < outer.length) return false;
  if (outer.length === 0) return true;
  return inner.address.kind() === 'ipv4'
    ? (inner.address as ipaddr.IPv4).match(outer.address as ipaddr.IPv4, outer.length)
    : (inner.address as ipaddr.IPv6).match(outer.address as ipaddr.IPv6, outer.length);
}
