import { afterEach, describe, expect, it, vi } from 'vitest';
import { HealthRegistry } from './health.js';
import { Reconciler, type ReconcilerOperations } from './reconciler.js';
import { Table } from './tables.js';

interface PolicyEntry {
  key: string;
  verdict: 'allow' | 'deny';
}

/** A legitimate target for testing the reconciler itself: a Map standing in for a BPF map, failing on demand. */
class FlakyMapTarget implements ReconcilerOperations<PolicyEntry> {
  readonly contents = new Map<string, string>();
  readonly log: string[] = [];
  /** Keys whose next N updates fail. */
  readonly failures = new Map<string, number>();
  failPrunes = 0;

  async update(e: PolicyEntry): Promise<void> {
    const left = this.failures.get(e.key) ?? 0;
    if (left > 0) {
      this.failures.set(e.key, left - 1);
      this.log.push(`update ${e.key} failed`);
      throw new Error('E2BIG Argument list too long');
    }
    this.log.push(`update ${e.key}`);
    this.contents.set(e.key, e.verdict);
  }

  async delete(e: PolicyEntry): Promise<void> {
    this.log.push(`delete ${e.key}`);
    this.contents.delete(e.key);
  }

  async prune(desired: readonly PolicyEntry[]): Promise<void> {
    if (this.failPrunes > 0) {
      this.failPrunes--;
      throw new Error('map dump failed');
    }
    const keep = new Set(desired.map((e) => e.key));
    for (const k of [...this.contents.keys()]) {
      if (!keep.has(k)) {
        this.log.push(`prune ${k}`);
        this.contents.delete(k);
      }
    }
  }
}

describe('reconciler', () => {
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const s of stops.splice(0)) s();
  });

  function setup(extra: { fullReconcileIntervalMs?: number } = {}) {
    const table = new Table<PolicyEntry>('cilium_policy_00001', (e) => e.key);
    const target = new FlakyMapTarget();
    const health = new HealthRegistry();
    const ops: string[] = [];
    const reconciler = new Reconciler({
      table,
      operations: target,
      health: health.reporter('policy-map-reconciler'),
      retryBaseMs: 1,
      retryMaxMs: 8,
      ...extra,
      onOperation: (op, outcome) => ops.push(`${op}:${outcome}`),
    });
    stops.push(() => reconciler.stop());
    return { table, target, health, reconciler, ops };
  }

  it('on start, prunes strays left in the target and writes every desired object', async () => {
    const { table, target, reconciler } = setup();
    target.contents.set('stale', 'allow');
    table.upsert({ key: 'ingress/1000/tcp/80', verdict: 'allow' });
    await reconciler.start();
    expect([...target.contents]).toEqual([['ingress/1000/tcp/80', 'allow']]);
    expect(target.log).toEqual(['prune stale', 'update ingress/1000/tcp/80']);
    expect(reconciler.statusOf('ingress/1000/tcp/80')).toEqual({ kind: 'done' });
  });

  it('applies later changes incrementally, deletes included', async () => {
    const { table, target, reconciler } = setup();
    await reconciler.start();
    table.upsert({ key: 'a', verdict: 'allow' });
    table.upsert({ key: 'b', verdict: 'deny' });
    await reconciler.idle();
    table.delete('a');
    await reconciler.idle();
    expect([...target.contents]).toEqual([['b', 'deny']]);
    expect(target.log).toEqual(['update a', 'update b', 'delete a']);
    expect(reconciler.statusOf('a')).toBeUndefined();
  });

  it('retries a failing object with back-off, reports it meanwhile, and recovers', async () => {
    const { table, target, reconciler, health, ops } = setup();
    await reconciler.start();
    target.failures.set('a', 3);
    table.upsert({ key: 'a', verdict: 'allow' });
    await reconciler.idle();
    expect(reconciler.statusOf('a')).toMatchObject({ kind: 'error', attempts: 1, error: 'update a: E2BIG Argument list too long' });
    expect(health.get('policy-map-reconciler')?.level).toBe('degraded');
    await vi.waitFor(() => expect(reconciler.statusOf('a')).toEqual({ kind: 'done' }));
    expect(target.log).toEqual(['update a failed', 'update a failed', 'update a failed', 'update a']);
    expect(ops.filter((o) => o === 'update:fail')).toHaveLength(3);
    await vi.waitFor(() => expect(health.get('policy-map-reconciler')).toMatchObject({ level: 'ok', message: 'cilium_policy_00001: 1 object(s) reconciled' }));
  });

  it('lets a newer change supersede a pending retry', async () => {
    const { table, target, reconciler } = setup();
    await reconciler.start();
    target.failures.set('a', 1);
    table.upsert({ key: 'a', verdict: 'allow' });
    await reconciler.idle();
    table.upsert({ key: 'a', verdict: 'deny' });
    await vi.waitFor(() => expect(reconciler.statusOf('a')).toEqual({ kind: 'done' }));
    expect(target.contents.get('a')).toBe('deny');
  });

  it('repairs a target changed behind its back at the full-reconciliation interval', async () => {
    const { table, target, reconciler } = setup({ fullReconcileIntervalMs: 5 });
    table.upsert({ key: 'a', verdict: 'allow' });
    await reconciler.start();
    target.contents.delete('a');
    target.contents.set('intruder', 'allow');
    await vi.waitFor(() => expect([...target.contents]).toEqual([['a', 'allow']]));
  });

  it('retries a failed full reconciliation', async () => {
    const { table, target, reconciler, health } = setup();
    target.failPrunes = 1;
    target.contents.set('stale', 'allow');
    table.upsert({ key: 'a', verdict: 'allow' });
    await reconciler.start();
    expect(health.get('policy-map-reconciler')?.message).toContain('prune failed: map dump failed');
    await vi.waitFor(() => expect(target.contents.has('stale')).toBe(false));
    expect(target.contents.get('a')).toBe('allow');
  });
});
