import { describe, expect, it } from 'vitest';
import { formatKeyValues, formatTable } from './table.js';

describe('table output', () => {
  it('aligns columns and puts multi-line cells on following lines', () => {
    const text = formatTable(
      ['ENDPOINT', 'IDENTITY', 'LABELS', 'STATUS'],
      [
        [12, 1001, ['k8s:app=web', 'k8s:tier=front'], 'ready'],
        [7, 5, ['reserved:init'], 'waiting-for-identity'],
      ],
    );
    expect(text.split('\n')).toEqual([
      'ENDPOINT   IDENTITY   LABELS           STATUS',
      '12         1001       k8s:app=web      ready',
      '                      k8s:tier=front',
      '7          5          reserved:init    waiting-for-identity',
    ]);
  });

  it('aligns key/value lines', () => {
    expect(formatKeyValues([['KVStore', 'Ok'], ['Controller Status', '9/9 healthy']], 10)).toBe('KVStore:           Ok\nController Status: 9/9 healthy');
  });
});
