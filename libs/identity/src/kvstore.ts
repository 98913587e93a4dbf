// The kvstore client: a thin layer over etcd3 with what the allocator, the ipcache and the node
// registry need: transactions, a lease owned by this node whose keys are re-created whenever the
// lease is lost (etcd restarted, partitioned longer than the TTL), retries with back-off while
// etcd is unreachable, and a status that says why.
import { Etcd3, isRecoverableError, type ICompare, type IKeyValue, type IOptions, type IRequestOp, type Lease } from 'etcd3';

export interface KvstoreOptions {
  /** etcd client URLs, e.g. `http://127.0.0.1:2379`. */
  endpoints: string | string[];
  /** This node's name; it owns the lease and the keys put under it. */
  nodeName: string;
  /** Lease TTL in seconds (upstream: 15 minutes). */
  leaseTtlSeconds?: number;
  /** Deadline of each unary etcd call. */
  callTimeoutMs?: number;
  /** Back-off between retries while etcd is unreachable. */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export type KvstoreStatus =
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'reconnecting'; lastError: string; retryInMs: number }
  | { state: 'closed' };

export interface KvPair {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  lease: string;
}

export interface TxnResult {
  succeeded: boolean;
  revision: number;
  /** Key-values returned by the range operations of the branch that ran, in order. */
  ranges: KvPair[][];
}

/** A comparison in a transaction; all of them must hold for the success branch to run. */
export type KvCondition =
  | { kind: 'absent'; key: string }
  | { kind: 'exists'; key: string }
  | { kind: 'valueEquals'; key: string; value: string }
  | { kind: 'modRevisionEquals'; key: string; revision: number }
  /** No key at all under the prefix (etcd compares every key of the range). */
  | { kind: 'prefixEmpty'; prefix: string };

export type KvOperation =
  | { kind: 'put'; key: string; value: string; leased?: boolean }
  | { kind: 'delete'; key: string }
  | { kind: 'get'; key: string }
  | { kind: 'list'; prefix: string };

/** etcd 3.3+ accepts a key range in a comparison; etcd3's typings predate the field. */
interface RangeCompare extends ICompare {
  range_end?: Buffer;
}

/** Called with the new lease after the old one was lost; owners put their leased keys back. */
export type LeaseRestorer = (leaseId: string) => Promise<void>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The key just after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function toPair(kv: IKeyValue): KvPair {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    lease: String(kv.lease),
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isLeaseNotFound(err: unknown): boolean {
  return err instanceof Error && /lease not found/i.test(err.message);
}

/** Errors worth waiting out: etcd down, restarting, slow, or our lease gone. */
export function isTransientKvError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (isLeaseNotFound(err)) return true;
  if (isRecoverableError(err)) return true;
  return /unavailable|deadline|timed out|ECONNREFUSED|circuit breaker|connection|leader|stopped|too many requests/i.test(
    err.message,
  );
}

type FaultPolicy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * Calls straight through. Retrying is ours (with status and back-off); etcd3's default circuit
 * breaker would add up to 5 s of refusal after etcd is back.
 */
const passThrough = {
  execute: (fn: (context: { signal: AbortSignal }) => unknown, signal?: AbortSignal) =>
    Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal })),
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
} as unknown as FaultPolicy;

/** Exponential back-off as the etcd3 watch manager wants it (cockatiel's IBackoff shape). */
class CappedBackoff {
  constructor(
    readonly duration: number,
    private readonly max: number,
  ) {}
  next(): CappedBackoff {
    return new CappedBackoff(Math.min(this.duration * 2, this.max), this.max);
  }
}

export class Kvstore {
  readonly client: Etcd3;
  readonly nodeName: string;
  readonly leaseTtlSeconds: number;
  private readonly callTimeoutMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private currentStatus: KvstoreStatus = { state: 'connecting' };
  private readonly statusListeners = new Set<(status: KvstoreStatus) => void>();
  private lease: Lease | undefined;
  private leaseReady: Promise<string>;
  private leaseGeneration = 0;
  private readonly ownedKeys = new Map<string, string>();
  private readonly restorers = new Set<LeaseRestorer>();
  private closed = false;

  constructor(options: KvstoreOptions) {
    this.nodeName = options.nodeName;
    this.leaseTtlSeconds = options.leaseTtlSeconds ?? 15 * 60;
    this.callTimeoutMs = options.callTimeoutMs ?? 5_000;
    this.retryInitialMs = options.retryInitialMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 2_000;
    this.client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: this.callTimeoutMs,
      // Reconnect quickly after an etcd restart: grpc-js would otherwise back off up to 2 minutes.
      grpcOptions: {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': this.retryMaxMs,
      },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.callTimeoutMs }),
      faultHandling: {
        global: passThrough,
        host: () => passThrough,
        watchBackoff: new CappedBackoff(this.retryInitialMs, this.retryMaxMs),
      },
    });
    this.leaseReady = this.acquireLease();
    // Rejects only when closed before a lease was granted; nobody may be waiting then.
    this.leaseReady.catch(() => undefined);
  }

  status(): KvstoreStatus {
    return this.currentStatus;
  }

  /** The status as an operator reads it, e.g. `kvstore: unreachable, retrying in 2s: <error>`. */
  statusText(): string {
    const s = this.currentStatus;
    switch (s.state) {
      case 'connected':
        return `kvstore: connected to etcd, lease ${this.lease ? 'held' : 'pending'}, ${this.ownedKeys.size} leased keys`;
      case 'connecting':
        return 'kvstore: connecting';
      case 'closed':
        return 'kvstore: closed';
      case 'reconnecting':
        return `kvstore: unreachable, retrying in ${formatDelay(s.retryInMs)}: ${s.lastError}`;
    }
  }

  onStatus(listener: (status: KvstoreStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private setStatus(status: KvstoreStatus): void {
    if (this.closed && status.state !== 'closed') return;
    const prev = this.currentStatus;
    this.currentStatus = status;
    if (prev.state === status.state && status.state !== 'reconnecting') return;
    for (const listener of this.statusListeners) listener(status);
  }

  private markHealthy(): void {
    if (this.currentStatus.state !== 'connected') this.setStatus({ state: 'connected' });
  }

  /**
   * Runs `fn` until it succeeds, waiting with back-off while etcd is unreachable. Other errors
   * propagate at once, prefixed with the operation.
   */
  async retrying<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    let delay = this.retryInitialMs;
    for (;;) {
      if (this.closed) throw new Error(`kvstore ${operation}: client closed`);
      try {
        const result = await fn();
        this.markHealthy();
        return result;
      } catch (err) {
        if (this.closed) throw new Error(`kvstore ${operation}: client closed`);
        if (!isTransientKvError(err)) throw new Error(`kvstore ${operation}: ${describe(err)}`, { cause: err });
        if (isLeaseNotFound(err)) this.replaceLease(err);
        const jittered = Math.round(delay * (0.5 + Math.random() / 2));
        this.setStatus({ state: 'reconnecting', lastError: `${operation}: ${describe(err)}`, retryInMs: jittered });
        await sleep(jittered);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
  }

  async get(key: string): Promise<KvPair | undefined> {
    return this.retrying(`get ${key}`, async () => {
      const res = await this.client.kv.range({ key: Buffer.from(key) });
      return res.kvs[0] ? toPair(res.kvs[0]) : undefined;
    });
  }

  /** Every key under `prefix` and the revision the list was read at. */
  async list(prefix: string): Promise<{ revision: number; pairs: KvPair[] }> {
    return this.retrying(`list ${prefix}`, async () => {
      const res = await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
      return { revision: Number(res.header.revision), pairs: res.kvs.map(toPair) };
    });
  }

  async put(key: string, value: string): Promise<void> {
    await this.retrying(`put ${key}`, () => this.client.kv.put({ key: Buffer.from(key), value: Buffer.from(value) }));
  }

  async delete(key: string): Promise<void> {
    await this.retrying(`delete ${key}`, () => this.client.kv.deleteRange({ key: Buffer.from(key) }));
  }

  /**
   * One etcd transaction, retried as a whole while etcd is unreachable. Puts marked `leased` go
   * under this node's lease. A retry after an unknown outcome is safe for every caller here
   * because each success branch is guarded by conditions it invalidates itself.
   */
  async txn(operation: string, conditions: KvCondition[], success: KvOperation[], failure: KvOperation[] = []): Promise<TxnResult> {
    return this.retrying(operation, async () => {
      const needsLease = [...success, ...failure].some((op) => op.kind === 'put' && op.leased);
      const leaseId = needsLease ? await this.leaseId() : undefined;
      const res = await this.client.kv.txn({
        compare: conditions.map(toCompare),
        success: success.map((op) => toRequestOp(op, leaseId)),
        failure: failure.map((op) => toRequestOp(op, leaseId)),
      });
      const branch = res.succeeded ? success : failure;
      const ranges: KvPair[][] = [];
      res.responses.forEach((r, i) => {
        const op = branch[i];
        if (op && (op.kind === 'get' || op.kind === 'list')) ranges.push(r.response_range.kvs.map(toPair));
      });
      return { succeeded: res.succeeded, revision: Number(res.header.revision), ranges };
    });
  }

  /** The current lease, waiting for one while etcd is unreachable. */
  async leaseId(): Promise<string> {
    for (;;) {
      if (this.closed) throw new Error('kvstore lease: client closed');
      const generation = this.leaseGeneration;
      const id = await this.leaseReady;
      if (generation === this.leaseGeneration) return id;
    }
  }

  /** Puts a key under this node's lease and remembers it, so that it outlives a lost lease. */
  async putOwned(key: string, value: string): Promise<void> {
    this.ownedKeys.set(key, value);
    await this.retrying(`put ${key}`, async () => {
      const lease = await this.leaseId();
      await this.client.kv.put({ key: Buffer.from(key), value: Buffer.from(value), lease });
    });
  }

  async deleteOwned(key: string): Promise<void> {
    this.ownedKeys.delete(key);
    await this.delete(key);
  }

  /** Stops re-creating a leased key without deleting it (the caller deleted it in a txn). */
  forgetOwned(key: string): void {
    this.ownedKeys.delete(key);
  }

  /** Registers a callback run after every lease re-creation. */
  onLeaseRestored(restorer: LeaseRestorer): () => void {
    this.restorers.add(restorer);
    return () => this.restorers.delete(restorer);
  }

  private replaceLease(err: unknown): void {
    if (this.closed) return;
    const old = this.lease;
    this.lease = undefined;
    this.leaseGeneration++;
    this.setStatus({ state: 'reconnecting', lastError: `lease lost: ${describe(err)}`, retryInMs: this.retryInitialMs });
    if (old) old.removeAllListeners('lost');
    this.leaseReady = this.acquireLease(true);
    this.leaseReady.catch(() => undefined);
  }

  private async acquireLease(restore = false): Promise<string> {
    let delay = this.retryInitialMs;
    let id: string | undefined;
    let lease: Lease | undefined;
    while (id === undefined) {
      if (this.closed) throw new Error('kvstore lease: client closed');
      lease = this.client.lease(this.leaseTtlSeconds, { autoKeepAlive: true });
      try {
        id = await lease.grant();
      } catch (err) {
        const jittered = Math.round(delay * (0.5 + Math.random() / 2));
        this.setStatus({ state: 'reconnecting', lastError: `lease grant: ${describe(err)}`, retryInMs: jittered });
        await sleep(jittered);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
    const granted = lease!;
    this.lease = granted;
    granted.on('lost', (err: Error) => {
      if (this.lease === granted) this.replaceLease(err);
    });
    granted.on('keepaliveFailed', (err: unknown) => {
      if (this.lease === granted) {
        this.setStatus({ state: 'reconnecting', lastError: `lease keepalive: ${describe(err)}`, retryInMs: 100 });
      }
    });
    granted.on('keepaliveSucceeded', () => {
      if (this.lease === granted) this.markHealthy();
    });
    this.markHealthy();
    if (restore) void this.restoreOwnedKeys(id);
    return id;
  }

  private async restoreOwnedKeys(leaseId: string): Promise<void> {
    try {
      for (const [key, value] of [...this.ownedKeys]) {
        await this.retrying(`restore ${key}`, async () => {
          // A key released meanwhile must stay deleted.
          if (this.ownedKeys.get(key) !== value) return;
          await this.client.kv.put({ key: Buffer.from(key), value: Buffer.from(value), lease: await this.leaseId() });
        });
      }
      for (const restorer of this.restorers) await restorer(leaseId);
    } catch (err) {
      if (!this.closed) {
        this.setStatus({ state: 'reconnecting', lastError: `restore after lease loss: ${describe(err)}`, retryInMs: 0 });
      }
    }
  }

  /** Revokes the lease (this node's keys vanish at once) unless `keepLease`, then closes. */
  async close(options: { revokeLease?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    const lease = this.lease;
    if (lease && options.revokeLease !== false) {
      await lease.revoke().catch(() => undefined);
    } else if (lease) {
      lease.release();
    }
    this.closed = true;
    this.setStatus({ state: 'closed' });
    this.client.close();
  }
}

function formatDelay(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}

function toCompare(condition: KvCondition): RangeCompare {
  switch (condition.kind) {
    case 'absent':
      return { key: Buffer.from(condition.key), target: 'Create', result: 'Equal', create_revision: 0 };
    case 'exists':
      return { key: Buffer.from(condition.key), target: 'Create', result: 'Greater', create_revision: 0 };
    case 'valueEquals':
      return { key: Buffer.from(condition.key), target: 'Value', result: 'Equal', value: Buffer.from(condition.value) };
    case 'modRevisionEquals':
      return { key: Buffer.from(condition.key), target: 'Mod', result: 'Equal', mod_revision: condition.revision };
    case 'prefixEmpty':
      return {
        key: Buffer.from(condition.prefix),
        range_end: prefixEnd(condition.prefix),
        target: 'Create',
        result: 'Equal',
        create_revision: 0,
      };
  }
}

function toRequestOp(op: KvOperation, leaseId: string | undefined): IRequestOp {
  switch (op.kind) {
    case 'put':
      return {
        request_put: {
          key: Buffer.from(op.key),
          value: Buffer.from(op.value),
          ...(op.leased ? { lease: leaseId } : {}),
        },
      };
    case 'delete':
      return { request_delete_range: { key: Buffer.from(op.key) } };
    case 'get':
      return { request_range: { key: Buffer.from(op.key) } };
    case 'list':
      return { request_range: { key: Buffer.from(op.prefix), range_end: prefixEnd(op.prefix) } };
  }
}
