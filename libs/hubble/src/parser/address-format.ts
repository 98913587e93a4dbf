const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `aa:bb:cc:dd:ee:ff`, lowercase, as Go's net.HardwareAddr prints it. */
export function formatMac(b: Uint8Array, o: number): string {
  return `${hex[b[o] ?? 0]}:${hex[b[o + 1] ?? 0]}:${hex[b[o + 2] ?? 0]}:${hex[b[o + 3] ?? 0]}:${hex[b[o + 4] ?? 0]}:${hex[b[o + 5] ?? 0]}`;
}

export function formatIPv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/**
 * RFC 5952 text like Go's net.IP.String(): the longest run (two or more) of zero groups becomes
 * `::` (the first one on ties), IPv4-mapped addresses print as dotted quads.
 */
export function formatIPv6(b: Uint8Array, o: number): string {
  let mapped = (b[o + 10] ?? 0) === 0xff && (b[o + 11] ?? 0) === 0xff;
  for (let i = 0; mapped && i < 10; i++) if ((b[o + i] ?? 0) !== 0) mapped = false;
  if (mapped) return formatIPv4(b, o + 12);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[o + i] ?? 0) << 8) | (b[o + i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}
