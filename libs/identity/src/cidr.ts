// Go's net.IPMask and cidr.CIDR as they appear in upstream's JSON: a mask is base64 of its bytes.
import { isIPv4, isIPv6 } from 'node:net';

export function maskBase64(prefixLength: number, bits: 32 | 128): string {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bits) {
    throw new Error(`prefix length ${prefixLength}: must be 0..${bits}`);
  }
  const bytes = Buffer.alloc(bits / 8);
  for (let i = 0; i < prefixLength; i++) bytes[i >> 3]! |= 0x80 >> (i & 7);
  return bytes.toString('base64');
}

export function prefixLengthOfMask(mask: string): number {
  let length = 0;
  for (const byte of Buffer.from(mask, 'base64')) {
    for (let bit = 7; bit >= 0; bit--) if (byte & (1 << bit)) length++;
  }
  return length;
}

/** `10.0.1.0/24` -> `{ IP: '10.0.1.0', Mask: '////AA==' }` (upstream's *cidr.CIDR JSON). */
export function cidrToJson(cidr: string): { IP: string; Mask: string } {
  const [ip, length] = cidr.split('/');
  const bits = ip && isIPv4(ip) ? 32 : ip && isIPv6(ip) ? 128 : undefined;
  if (!ip || bits === undefined || length === undefined || !/^[0-9]+$/.test(length)) {
    throw new Error(`CIDR "${cidr}": expected <ip>/<prefix length>`);
  }
  return { IP: ip, Mask: maskBase64(Number(length), bits) };
}

export function cidrFromJson(json: { IP: string; Mask: string } | null | undefined): string | undefined {
  if (!json) return undefined;
  return `${json.IP}/${prefixLengthOfMask(json.Mask)}`;
}
