// Writes a table's desired state into a target (a BPF map through the datapath library, the kvstore...)
// and keeps it there: incrementally on each change, fully (with pruning of strays) on start and on
// demand, retrying failed objects with exponential back-off. It reports per-object status and module health.
import type { HealthReporter } from './health.js';
import type { Change, Table } from './tables.js';

/** What a target must offer; each operation must be idempotent. */
export interface ReconcilerOperations<T> {
  update(obj: T): Promise<void>;
  delete(obj: T): Promise<void>;
  /** Removes from the target everything that is not in `desired`. */
  prune(desired: readonly T[]): Promise<void>;
}

export type ReconcileStatus =
  | { kind: 'pending' }
  | { kind: 'done' }
  | { kind: 'error'; error: string; attempts: number };

export type ReconcileOperation = 'update' | 'delete' | 'prune';

export interface ReconcilerOptions<T> {
  table: Table<T>;
  operations: ReconcilerOperations<T>;
  health?: HealthReporter;
  /** First retry delay; doubles per failed attempt up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Also reconcile fully at this interval, to repair a target changed behind the agent's back (0: never). */
  fullReconcileIntervalMs?: number;
  /** Called after each operation, e.g. for cilium_bpf_map_ops_total. */
  onOperation?: (op: ReconcileOperation, outcome: 'success' | 'fail') => void;
}

interface Pending<T> {
  kind: 'upsert' | 'delete';
  object: T;
}

export class Reconciler<T> {
  private readonly pending = new Map<string, Pending<T>>();
  private readonly status = new Map<string, ReconcileStatus>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly attempts = new Map<string, number>();
  private unwatch: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private fullPending = false;
  private fullAttempts = 0;
  private fullTimer: NodeJS.Timeout | undefined;
  private pruneError: string | undefined;
  private stopped = true;
  private periodic: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly opts: ReconcilerOptions<T>) {
    this.retryBaseMs = opts.retryBaseMs ?? 100;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
  }

  get name(): string {
    return this.opts.table.name;
  }

  /** Starts watching the table and runs a full reconciliation. */
  start(): Promise<void> {
    this.stopped = false;
    this.unwatch = this.opts.table.watch((c) => this.onChange(c));
    this.fullPending = true;
    if (this.opts.fullReconcileIntervalMs) {
      this.periodic = setInterval(() => void this.prune(), this.opts.fullReconcileIntervalMs);
      this.periodic.unref();
    }
    return this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.periodic) clearInterval(this.periodic);
    this.unwatch?.();
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    if (this.fullTimer) clearTimeout(this.fullTimer);
    this.opts.health?.stopped('stopped');
  }

  /** Asks for a full reconciliation: prune strays, then write every desired object. */
  prune(): Promise<void> {
    this.fullPending = true;
    return this.kick();
  }

  statusOf(key: string): ReconcileStatus | undefined {
    return this.status.get(key);
  }

  statuses(): ReadonlyMap<string, ReconcileStatus> {
    return this.status;
  }

  /** Resolves when no work is queued or running (failed objects may still be waiting for a retry). */
  idle(): Promise<void> {
    if (!this.running && this.pending.size === 0 && !this.fullPending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private onChange(c: Change<T>): void {
    this.cancelRetry(c.key);
    this.attempts.delete(c.key);
    this.pending.set(c.key, { kind: c.kind, object: c.object });
    if (c.kind === 'upsert') this.status.set(c.key, { kind: 'pending' });
    void this.kick();
  }

  private kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.running) {
      this.running = this.loop().finally(() => {
        this.running = undefined;
        if (this.pending.size > 0 || this.fullPending) void this.kick();
        else for (const w of this.idleWaiters.splice(0)) w();
      });
    }
    return this.idle();
  }

  private async loop(): Promise<void> {
    // Let a burst of synchronous table changes collapse into one pass.
    await new Promise((r) => setImmediate(r));
    while (!this.stopped && (this.pending.size > 0 || this.fullPending)) {
      if (this.fullPending) {
        this.fullPending = false;
        await this.full();
        continue;
      }
      const [key, work] = this.pending.entries().next().value as [string, Pending<T>];
      this.pending.delete(key);
      await this.apply(key, work);
    }
    this.reportHealth();
  }

  private async full(): Promise<void> {
    const desired = this.opts.table.list();
    try {
      await this.opts.operations.prune(desired);
      this.opts.onOperation?.('prune', 'success');
      this.pruneError = undefined;
      this.fullAttempts = 0;
    } catch (err) {
      this.opts.onOperation?.('prune', 'fail');
      this.pruneError = (err as Error).message;
      const delay = this.backoff(++this.fullAttempts);
      this.fullTimer = setTimeout(() => {
        this.fullPending = true;
        void this.kick();
      }, delay);
      this.fullTimer.unref();
    }
    for (const obj of desired) {
      const key = this.opts.table.primaryKey(obj);
      if (!this.pending.has(key)) this.pending.set(key, { kind: 'upsert', object: obj });
    }
  }

  private async apply(key: string, work: Pending<T>): Promise<void> {
    const op: ReconcileOperation = work.kind === 'upsert' ? 'update' : 'delete';
    try {
      await this.opts.operations[op](work.object);
      this.opts.onOperation?.(op, 'success');
      this.attempts.delete(key);
      if (work.kind === 'upsert') this.status.set(key, { kind: 'done' });
      else this.status.delete(key);
    } catch (err) {
      this.opts.onOperation?.(op, 'fail');
      const attempts = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, attempts);
      this.status.set(key, { kind: 'error', error: `${op} ${key}: ${(err as Error).message}`, attempts });
      this.scheduleRetry(key, work, this.backoff(attempts));
    }
  }

  private backoff(attempts: number): number {
    return Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempts - 1));
  }

  private scheduleRetry(key: string, work: Pending<T>, delay: number): void {
    this.cancelRetry(key);
    const timer = setTimeout(() => {
      this.retryTimers.delete(key);
      // A newer change of the same key supersedes this retry.
      if (!this.pending.has(key)) this.pending.set(key, work);
      void this.kick();
    }, delay);
    timer.unref();
    this.retryTimers.set(key, timer);
  }

  private cancelRetry(key: string): void {
    const t = this.retryTimers.get(key);
    if (t) clearTimeout(t);
    this.retryTimers.delete(key);
  }

  private reportHealth(): void {
    const health = this.opts.health;
    if (!health || this.stopped) return;
    const failing = [...this.status.entries()].filter(([, s]) => s.kind === 'error');
    if (this.pruneError) {
      health.degraded(`${this.name}: prune failed: ${this.pruneError}`);
    } else if (failing.length > 0) {
      const [, first] = failing[0]!;
      const msg = first.kind === 'error' ? first.error : '';
      health.degraded(`${this.name}: ${failing.length} object(s) failing, e.g. ${msg}`);
    } else {
      health.ok(`${this.name}: ${this.opts.table.size} object(s) reconciled`);
    }
  }
}
