// Group commit for independent guarded transactions. Transactions queued in the same tick are
// sent as one etcd transaction: all conditions and-ed, all writes together. When that succeeds,
// each of them did; when any condition fails, each is run on its own so that each learns its own
// outcome (and gets its failure branch). Under contention this trades one extra round trip on
// conflict for far fewer etcd transactions while it is quiet.
import type { KvCondition, KvOperation, Kvstore, TxnResult } from './kvstore.js';

interface Pending {
  operation: string;
  conditions: KvCondition[];
  success: KvOperation[];
  failure: KvOperation[];
  resolve: (result: TxnResult) => void;
  reject: (err: unknown) => void;
}

/** etcd's default --max-txn-ops is 128 per branch and for the comparisons. */
const MAX_OPS = 128;

function writtenKeys(ops: KvOperation[]): string[] {
  return ops.flatMap((op) => (op.kind === 'put' || op.kind === 'delete' ? [op.key] : []));
}

export class TxnBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  /** etcd transactions sent, and batches that had to be replayed one by one after a conflict. */
  readonly stats = { etcdTxns: 0, splitBatches: 0 };

  constructor(private readonly kv: Kvstore) {}

  /** As `Kvstore.txn`; the success branch must only write (its results are not returned). */
  txn(operation: string, conditions: KvCondition[], success: KvOperation[], failure: KvOperation[] = []): Promise<TxnResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ operation, conditions, success, failure, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    let batch: Pending[] = [];
    let keys = new Set<string>();
    let ops = 0;
    let compares = 0;
    for (const item of queue) {
      const written = writtenKeys(item.success);
      // etcd refuses a transaction that writes one key twice.
      const clash = written.some((k) => keys.has(k));
      if (clash || ops + item.success.length > MAX_OPS || compares + item.conditions.length > MAX_OPS) {
        void this.send(batch);
        batch = [];
        keys = new Set();
        ops = 0;
        compares = 0;
      }
      batch.push(item);
      written.forEach((k) => keys.add(k));
      ops += item.success.length;
      compares += item.conditions.length;
    }
    void this.send(batch);
  }

  private async send(batch: Pending[]): Promise<void> {
    if (batch.length === 0) return;
    if (batch.length === 1) return this.single(batch[0]!);
    try {
      this.stats.etcdTxns++;
      const res = await this.kv.txn(
        `${batch[0]!.operation} (+${batch.length - 1} batched)`,
        batch.flatMap((p) => p.conditions),
        batch.flatMap((p) => p.success),
      );
      if (res.succeeded) {
        for (const p of batch) p.resolve({ succeeded: true, revision: res.revision, ranges: [] });
        return;
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    this.stats.splitBatches++;
    await Promise.all(batch.map((p) => this.single(p)));
  }

  private async single(p: Pending): Promise<void> {
    this.stats.etcdTxns++;
    try {
      p.resolve(await this.kv.txn(p.operation, p.conditions, p.success, p.failure));
    } catch (err) {
      p.reject(err);
    }
  }
}
