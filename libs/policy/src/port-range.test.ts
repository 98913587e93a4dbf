import { describe, expect, it } from 'vitest';
import { maskToPrefixLength, portRangeToMaskedPorts } from './port-range.js';

const hex = (start: number, end: number) =>
  portRangeToMaskedPorts(start, end).map((m) => `${m.port.toString(16)}/${m.mask.toString(16)}`);

describe('portRangeToMaskedPorts (S-14)', () => {
  it.each([
    [1000, 1999, ['3e8/fff8', '3f0/fff0', '400/fe00', '600/ff00', '700/ff80', '780/ffc0', '7c0/fff0']],
    [1024, 65535, ['400/fc00', '800/f800', '1000/f000', '2000/e000', '4000/c000', '8000/8000']],
    [5, 10, ['5/ffff', '6/fffe', '8/fffe', 'a/ffff']],
    [0, 1023, ['0/fc00']],
    [0, 0, ['0/0']],
    [0, 65535, ['0/0']],
    [80, 79, ['50/ffff']],
    [80, 0, ['50/ffff']],
    [65535, 65535, ['ffff/ffff']],
  ])('%i-%i', (start, end, want) => {
    expect(hex(start, end)).toEqual(want);
  });

  it('covers exactly the range for every range of a sample', () => {
    for (const [s, e] of [[1, 2], [3, 17], [100, 65534], [1, 65535], [32768, 32769]] as const) {
      const covered = new Set<number>();
      for (const m of portRangeToMaskedPorts(s, e)) {
        const size = 0x10000 - (m.mask === 0 ? 0 : m.mask) || 0x10000;
        for (let p = m.port; p < m.port + size; p++) covered.add(p);
      }
      expect(covered.size).toBe(e - s + 1);
      expect(Math.min(...covered)).toBe(s);
      expect(Math.max(...covered)).toBe(e);
    }
  });

  it('gives prefix lengths', () => {
    expect(maskToPrefixLength(0xffff)).toBe(16);
    expect(maskToPrefixLength(0xfc00)).toBe(6);
    expect(maskToPrefixLength(0)).toBe(0);
  });
});
