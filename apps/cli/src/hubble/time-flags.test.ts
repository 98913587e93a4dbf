import { describe, expect, it } from 'vitest';
import { parseGoDuration, parseTimeFlag } from './time-flags.js';

describe('--since / --until', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  it('reads Go durations as a time before now', () => {
    expect(parseGoDuration('1h43m')).toBe(6_180_000);
    expect(parseTimeFlag('since', '3s', now)).toBe(now - 3000);
    expect(parseTimeFlag('since', '500ms', now)).toBe(now - 500);
  });
  it('reads RFC3339, dates and RFC1123Z', () => {
    expect(parseTimeFlag('since', '2026-11-26T11:00:00Z', now)).toBe(Date.UTC(2026, 10, 26, 11));
    expect(parseTimeFlag('since', '2026-11-26T11:00:00.250+01:00', now)).toBe(Date.UTC(2026, 10, 26, 10, 0, 0, 250));
    expect(parseTimeFlag('since', '2026-11-25', now)).toBe(Date.UTC(2026, 10, 25));
    expect(parseTimeFlag('since', 'Wed, 25 Nov 2026 10:00:00 +0000', now)).toBe(Date.UTC(2026, 10, 25, 10));
  });
  it('names the flag when it cannot parse', () => {
    expect(() => parseTimeFlag('until', 'yesterday', now)).toThrow(/^--until: cannot parse "yesterday"/);
  });
});
