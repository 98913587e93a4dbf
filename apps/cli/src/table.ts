// Column output for people, aligned like Go's tabwriter in upstream's CLI. A cell may hold several
// lines (an endpoint's labels): the row then takes several lines and the other cells stay on the first.
export type Cell = string | number | readonly string[];

export function formatTable(header: readonly Cell[], rows: readonly (readonly Cell[])[], padding = 3): string {
  const lines = (c: Cell | undefined): string[] => (Array.isArray(c) ? (c.length ? [...c] : ['']) : [String(c ?? '')]);
  const expanded: string[][] = [];
  for (const row of [header, ...rows]) {
    const cells = header.map((_, i) => lines(row[i]));
    const height = Math.max(...cells.map((c) => c.length));
    for (let l = 0; l < height; l++) expanded.push(cells.map((c) => c[l] ?? ''));
  }
  const widths = header.map((_, i) => Math.max(...expanded.map((r) => r[i]!.length)));
  return expanded
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + padding)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

/** "Key:   value" lines with the values aligned, as `cilium status`. */
export function formatKeyValues(pairs: readonly [string, string][], minWidth = 25): string {
  const width = Math.max(minWidth, ...pairs.map(([k]) => k.length + 2));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`.trimEnd()).join('\n');
}
