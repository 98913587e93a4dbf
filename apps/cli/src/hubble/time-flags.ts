import { CliError } from '../cli-error.js';

const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A Go duration (`3s`, `1h43m`, `500ms`) in milliseconds, or undefined if `text` is not one. */
export function parseGoDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((ms, p) => ms + Number(p[1]) * (units[p[2] ?? ''] ?? 0), 0);
}

/**
 * `--since` / `--until`: a duration before now (`3s`, `1h43m`), or a time in one of the layouts
 * upstream accepts: StampMilli (`Jan  2 15:04:05.000`, this year, local time), `2006-01-02`,
 * RFC3339 with or without fractions, RFC1123Z.
 */
export function parseTimeFlag(flag: string, text: string, now: number): number {
  const d = parseGoDuration(text);
  if (d !== undefined) return now - d;
  const stamp = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text);
  if (stamp) {
    const month = months.indexOf(stamp[1] ?? '');
    if (month >= 0) return new Date(new Date(now).getFullYear(), month, Number(stamp[2]), Number(stamp[3]), Number(stamp[4]), Number(stamp[5]), Number((stamp[6] ?? '0').padEnd(3, '0'))).getTime();
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return Date.parse(`${text}T00:00:00Z`);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) || /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new CliError(`--${flag}: cannot parse "${text}" as a duration (e.g. 3s, 1h43m) or a time (RFC3339, 2006-01-02, StampMilli, RFC1123Z)`);
}
