import type { Timestamp } from '@bufbuild/protobuf/wkt';

/** `--time-format` names the hubble CLI accepts, mapped to Go layouts. */
export const namedTimeLayouts: Readonly<Record<string, string>> = {
  StampMilli: 'Jan _2 15:04:05.000',
  Stamp: 'Jan _2 15:04:05',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Milli: '2006-01-02T15:04:05.000Z07:00',
  RFC3339Micro: '2006-01-02T15:04:05.000000Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
};

const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n: number, width: number, fill = '0') => String(n).padStart(width, fill);

/**
 * Formats a timestamp in UTC with a Go reference-time layout (`Jan _2 15:04:05.000`), the way the
 * hubble CLI does (`AsTime().Format(layout)`). Supports the tokens of the layouts above.
 */
export function formatGoTime(ts: Timestamp, layout: string): string {
  const date = new Date(Number(ts.seconds) * 1000);
  const nanos = ts.nanos;
  const tokens: [string, () => string][] = [
    ['January', () => months[date.getUTCMonth()] ?? ''],
    ['Monday', () => days[date.getUTCDay()] ?? ''],
    ['Jan', () => (months[date.getUTCMonth()] ?? '').slice(0, 3)],
    ['Mon', () => (days[date.getUTCDay()] ?? '').slice(0, 3)],
    ['2006', () => pad(date.getUTCFullYear(), 4)],
    ['Z07:00', () => 'Z'],
    ['-07:00', () => '+00:00'],
    ['-0700', () => '+0000'],
    ['MST', () => 'UTC'],
    ['01', () => pad(date.getUTCMonth() + 1, 2)],
    ['02', () => pad(date.getUTCDate(), 2)],
    ['_2', () => pad(date.getUTCDate(), 2, ' ')],
    ['15', () => pad(date.getUTCHours(), 2)],
    ['03', () => pad(date.getUTCHours() % 12 === 0 ? 12 : date.getUTCHours() % 12, 2)],
    ['04', () => pad(date.getUTCMinutes(), 2)],
    ['05', () => pad(date.getUTCSeconds(), 2)],
    ['06', () => pad(date.getUTCFullYear() % 100, 2)],
    ['PM', () => (date.getUTCHours() >= 12 ? 'PM' : 'AM')],
  ];
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac?.[1] !== undefined) {
      const digits = frac[1].length;
      let text = pad(nanos, 9).slice(0, digits);
      if (frac[1][0] === '9') text = text.replace(/0+$/, '');
      if (text !== '') out += (layout[i] ?? '.') + text;
      i += frac[0].length;
      continue;
    }
    for (const [token, value] of tokens) {
      if (layout.startsWith(token, i)) {
        out += value();
        i += token.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}

/** A layout from a `--time-format` value: a known name, or a Go layout as is. */
export function timeLayout(nameOrLayout: string): string {
  return namedTimeLayouts[nameOrLayout] ?? nameOrLayout;
}
