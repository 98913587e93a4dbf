/** Parses Go-style durations as upstream flags take them: `1s`, `500ms`, `1m30s`, `2h`. */
export function parseDuration(text: string, flag: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`${flag}: invalid duration "${text}" (use e.g. 1s, 500ms, 1m30s)`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * (units[p[2] ?? ''] ?? 0), 0);
}

/** `:4245`, `127.0.0.1:4245`, `[::1]:4245` → host (undefined = every address) and port. */
export function parseListenAddress(text: string, flag: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag}: invalid address "${text}" (use [host]:port, e.g. :4245)`);
  const host = m[1] ?? m[2];
  return host ? { host, port } : { port };
}
