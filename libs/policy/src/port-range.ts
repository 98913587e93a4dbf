// Port ranges as masked ports: the policy map is an LPM trie, so a range becomes a set of port prefixes.

export interface MaskedPort {
  readonly port: number;
  /** 16-bit mask; 0xffff is one port, 0 is every port. */
  readonly mask: number;
}

/**
 * Splits `start..end` into the fewest aligned power-of-two blocks, in ascending order (upstream
 * `PortRangeToMaskedPorts`). Port 0 alone and 0..65535 are the wildcard; an end below the start, or 0, means
 * the start port only.
 */
export function portRangeToMaskedPorts(start: number, end: number): MaskedPort[] {
  if (end < start || end === 0) end = start;
  if (start === 0 && (end === 0 || end === 0xffff)) return [{ port: 0, mask: 0 }];
  const out: MaskedPort[] = [];
  let port = start;
  while (port <= end) {
    // The largest block aligned at `port` that still ends within the range.
    let size = port === 0 ? 0x10000 : port & -port;
    while (port + size - 1 > end) size >>= 1;
    out.push({ port, mask: (0x10000 - size) & 0xffff });
    port += size;
  }
  return out;
}

export function maskToPrefixLength(mask: number): number {
  let n = 0;
  for (let m = mask & 0xffff; m !== 0; m = (m << 1) & 0xffff) n++;
  return n;
}

export function prefixLengthToMask(len: number): number {
  return len === 0 ? 0 : (0xffff << (16 - len)) & 0xffff;
}
