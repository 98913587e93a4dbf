import { describe, expect, it } from 'vitest';
import { Table, type Change } from './tables.js';

interface IpcacheRow {
  prefix: string;
  identity: number;
}

function ipcacheTable() {
  return new Table<IpcacheRow>('ipcache', (r) => r.prefix, [{ name: 'identity', keys: (r) => [String(r.identity)] }]);
}

describe('tables', () => {
  it('keeps objects by primary key with a revision per change', () => {
    const t = ipcacheTable();
    const r1 = t.upsert({ prefix: '10.0.1.5/32', identity: 1000 });
    const r2 = t.upsert({ prefix: '10.0.1.6/32', identity: 1000 });
    expect(r2).toBeGreaterThan(r1);
    expect(t.get('10.0.1.5/32')).toEqual({ prefix: '10.0.1.5/32', identity: 1000 });
    expect(t.revisionOf('10.0.1.6/32')).toBe(r2);
    expect(t.list().map((r) => r.prefix)).toEqual(['10.0.1.5/32', '10.0.1.6/32']);
  });

  it('looks objects up by a secondary index that follows replacements', () => {
    const t = ipcacheTable();
    t.upsert({ prefix: '10.0.1.5/32', identity: 1000 });
    t.upsert({ prefix: '10.0.1.6/32', identity: 1000 });
    t.upsert({ prefix: '10.0.1.6/32', identity: 2000 });
    expect(t.getBy('identity', '1000').map((r) => r.prefix)).toEqual(['10.0.1.5/32']);
    expect(t.getBy('identity', '2000').map((r) => r.prefix)).toEqual(['10.0.1.6/32']);
    expect(() => t.getBy('labels', 'x')).toThrow('table ipcache: no index "labels"');
  });

  it('tells watchers about every upsert and delete in order', () => {
    const t = ipcacheTable();
    const seen: Change<IpcacheRow>[] = [];
    const stop = t.watch((c) => seen.push(c));
    t.upsert({ prefix: '10.0.1.5/32', identity: 1000 });
    t.delete('10.0.1.5/32');
    t.delete('10.0.1.5/32');
    stop();
    t.upsert({ prefix: '10.0.1.7/32', identity: 1 });
    expect(seen.map((c) => `${c.kind} ${c.key} @${c.revision}`)).toEqual(['upsert 10.0.1.5/32 @1', 'delete 10.0.1.5/32 @2']);
    expect(t.deleteWhere((r) => r.identity === 1)).toBe(1);
    expect(t.size).toBe(0);
  });
});
