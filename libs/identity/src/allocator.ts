// Labels to a numeric identity that every node agrees on. Reserved labels resolve from the table,
// CIDR/FQDN labels get a node-local identity, everything else a cluster identity in etcd.
//
// A cluster identity is created by one transaction: id/<id>, labels/<labels> and this node's
// value key, only if neither id/<id> nor labels/<labels> exists. Racing allocators of the same
// labels therefore converge on the first one's id; the losers read it from the failed
// transaction and add their own reference with a second transaction that checks the identity
// still exists (the garbage collector may have removed it in between). Both kinds go through a
// group commit (TxnBatcher), so a node starting many endpoints at once sends few transactions.
import type { Identity } from './identity.js';
import type { IdentityCache } from './identity-cache.js';
import { idKey, labelsKey, valueKey } from './identity-keys.js';
import type { Kvstore } from './kvstore.js';
import { TxnBatcher } from './txn-batcher.js';
import { canonicalLabels, needsLocalIdentity, parseLabelString, type LabelSet } from './labels.js';
import {
  lookupReservedByLabelString,
  MAX_CLUSTER_IDENTITY,
  MAX_LOCAL_IDENTITY,
  MIN_CLUSTER_IDENTITY,
  MIN_LOCAL_IDENTITY,
} from './reserved-identities.js';

export interface AllocatorOptions {
  /** Attempts per allocation under contention before giving up (upstream: 16). */
  maxAttempts?: number;
  /** Cluster identity range; cluster 0 uses 256..65535. */
  minId?: number;
  maxId?: number;
}

export interface AllocationResult {
  identity: Identity;
  /** True when this call created the identity cluster-wide (or locally). */
  isNew: boolean;
}

/** Transaction outcomes, for metrics and for seeing contention. */
export interface AllocatorStats {
  created: number;
  createConflicts: number;
  referenced: number;
  referenceConflicts: number;
  /** etcd transactions those took after group commit. */
  etcdTxns: number;
}

interface Reference {
  identity: Identity;
  refs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class IdentityAllocator {
  private readonly references = new Map<string, Reference>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly localIds = new Map<string, Reference>();
  private readonly freeLocalIds: number[] = [];
  private nextLocalId = MIN_LOCAL_IDENTITY;
  private readonly maxAttempts: number;
  private readonly minId: number;
  private readonly maxId: number;
  private readonly stopRestoring: () => void;
  private readonly batcher: TxnBatcher;
  private readonly counts = { created: 0, createConflicts: 0, referenced: 0, referenceConflicts: 0 };

  constructor(
    private readonly kv: Kvstore,
    readonly cache: IdentityCache,
    options: AllocatorOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 16;
    this.minId = options.minId ?? MIN_CLUSTER_IDENTITY;
    this.maxId = options.maxId ?? MAX_CLUSTER_IDENTITY;
    this.stopRestoring = kv.onLeaseRestored(() => this.restoreReferences());
    this.batcher = new TxnBatcher(kv);
  }

  /** Counters since start-up. */
  get stats(): AllocatorStats {
    return { ...this.counts, etcdTxns: this.batcher.stats.etcdTxns };
  }

  get nodeName(): string {
    return this.kv.nodeName;
  }

  /** Resolves labels to an identity and takes a reference on it for this node. */
  async allocate(labels: LabelSet): Promise<AllocationResult> {
    const labelString = canonicalLabels(labels);
    const reserved = lookupReservedByLabelString(labelString);
    if (reserved) {
      const identity = this.cache.lookupById(reserved.id)!;
      return { identity, isNew: false };
    }
    if (needsLocalIdentity(labels)) return this.allocateLocal(labelString);

    const held = this.references.get(labelString);
    if (held && !this.queues.has(labelString)) {
      held.refs++;
      return { identity: held.identity, isNew: false };
    }
    // Allocations and releases of one label set on this node run one after another, so that a
    // release never deletes the reference a concurrent allocation has just re-taken.
    return this.serialized(labelString, async () => {
      const existing = this.references.get(labelString);
      if (existing) {
        existing.refs++;
        return { identity: existing.identity, isNew: false };
      }
      const result = await this.allocateGlobal(labelString);
      this.references.set(labelString, { identity: result.identity, refs: 1 });
      return result;
    });
  }

  /**
   * Drops one reference. When this node holds none any more its value key is deleted; the
   * identity itself stays until the garbage collector finds no node referencing it.
   * Returns true when the last local reference was released.
   */
  async release(labels: LabelSet): Promise<boolean> {
    const labelString = canonicalLabels(labels);
    if (lookupReservedByLabelString(labelString)) return false;
    const local = this.localIds.get(labelString);
    if (local) {
      if (--local.refs > 0) return false;
      this.localIds.delete(labelString);
      this.freeLocalIds.push(local.identity.id);
      this.cache.deleteLocal(local.identity.id);
      return true;
    }
    return this.serialized(labelString, async () => {
      const ref = this.references.get(labelString);
      if (!ref) throw new Error(`release ${labelString}: not allocated on node ${this.nodeName}`);
      if (--ref.refs > 0) return false;
      this.references.delete(labelString);
      await this.kv.txn(
        `release ${labelString}`,
        [{ kind: 'valueEquals', key: valueKey(labelString, this.nodeName), value: String(ref.identity.id) }],
        [{ kind: 'delete', key: valueKey(labelString, this.nodeName) }],
      );
      return true;
    });
  }

  private serialized<T>(labelString: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(labelString) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.queues.set(labelString, next);
    const cleanup = () => {
      if (this.queues.get(labelString) === next) this.queues.delete(labelString);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  /** Identities this node holds references on, with their counts. */
  heldIdentities(): Array<{ identity: Identity; refs: number }> {
    return [...this.references.values(), ...this.localIds.values()].map((r) => ({ identity: r.identity, refs: r.refs }));
  }

  lookupById(id: number): Identity | undefined {
    return this.cache.lookupById(id);
  }

  lookupByLabels(labels: LabelSet): Identity | undefined {
    return this.cache.lookupByLabels(labels);
  }

  private allocateLocal(labelString: string): AllocationResult {
    const existing = this.localIds.get(labelString);
    if (existing) {
      existing.refs++;
      return { identity: existing.identity, isNew: false };
    }
    const id = this.freeLocalIds.pop() ?? this.nextLocalId++;
    if (id > MAX_LOCAL_IDENTITY) throw new Error(`allocate ${labelString}: local identity range exhausted`);
    const identity: Identity = { id, labelString, labels: parseLabelString(labelString), scope: 'local' };
    this.localIds.set(labelString, { identity, refs: 1 });
    this.cache.upsertLocal(identity);
    return { identity, isNew: true };
  }

  private async allocateGlobal(labelString: string): Promise<AllocationResult> {
    const node = this.nodeName;
    const taken = new Set<number>();
    // The cache usually knows labels allocated anywhere in the cluster already.
    let knownId = this.cache.lookupByLabels(labelString)?.id;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (knownId !== undefined) {
        const id = knownId;
        const res = await this.batcher.txn(
          `allocate ${labelString}: reference identity ${id}`,
          [
            { kind: 'valueEquals', key: labelsKey(labelString), value: String(id) },
            { kind: 'valueEquals', key: idKey(id), value: labelString },
          ],
          [{ kind: 'put', key: valueKey(labelString, node), value: String(id), leased: true }],
          [{ kind: 'get', key: labelsKey(labelString) }],
        );
        if (res.succeeded) {
          this.counts.referenced++;
          return { identity: this.globalIdentity(id, labelString), isNew: false };
        }
        this.counts.referenceConflicts++;
        // Collected meanwhile, or the labels key was never ours to trust: read it afresh.
        knownId = parseId(res.ranges[0]?.[0]?.value);
        if (knownId === id) knownId = undefined;
      } else {
        const id = this.pickFreeId(taken);
        const res = await this.batcher.txn(
          `allocate ${labelString}: create identity ${id}`,
          [
            { kind: 'absent', key: labelsKey(labelString) },
            { kind: 'absent', key: idKey(id) },
          ],
          [
            { kind: 'put', key: idKey(id), value: labelString },
            { kind: 'put', key: labelsKey(labelString), value: String(id) },
            { kind: 'put', key: valueKey(labelString, node), value: String(id), leased: true },
          ],
          [{ kind: 'get', key: labelsKey(labelString) }],
        );
        if (res.succeeded) {
          this.counts.created++;
          return { identity: this.globalIdentity(id, labelString), isNew: true };
        }
        this.counts.createConflicts++;
        knownId = parseId(res.ranges[0]?.[0]?.value);
        if (knownId === undefined) taken.add(id); // the id was someone else's
        continue; // no back-off: the failed transaction told us what to do next
      }
      await sleep(Math.random() * 10 * attempt);
    }
    throw new Error(`allocate ${labelString}: no identity after ${this.maxAttempts} attempts under contention`);
  }

  private globalIdentity(id: number, labelString: string): Identity {
    return { id, labelString, labels: parseLabelString(labelString), scope: 'global' };
  }

  private pickFreeId(taken: Set<number>): number {
    const span = this.maxId - this.minId + 1;
    for (let i = 0; i < 64; i++) {
      const id = this.minId + Math.floor(Math.random() * span);
      if (!taken.has(id) && !this.cache.lookupById(id)) return id;
    }
    // A crowded range: walk from a random point to the next free id.
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const id = this.minId + ((start + i) % span);
      if (!taken.has(id) && !this.cache.lookupById(id)) return id;
    }
    throw new Error(`identity range ${this.minId}..${this.maxId} exhausted`);
  }

  /**
   * After the lease was lost our value keys are gone. Put them back; if the identity itself was
   * collected meanwhile, re-create it with the same id, because this node's endpoints use it.
   */
  private async restoreReferences(): Promise<void> {
    for (const [labelString, ref] of [...this.references]) {
      const id = ref.identity.id;
      const value = valueKey(labelString, this.nodeName);
      const reused = await this.kv.txn(
        `restore reference ${labelString}`,
        [{ kind: 'valueEquals', key: idKey(id), value: labelString }],
        [{ kind: 'put', key: value, value: String(id), leased: true }],
      );
      if (reused.succeeded) continue;
      const recreated = await this.kv.txn(
        `restore identity ${id} ${labelString}`,
        [
          { kind: 'absent', key: idKey(id) },
          { kind: 'absent', key: labelsKey(labelString) },
        ],
        [
          { kind: 'put', key: idKey(id), value: labelString },
          { kind: 'put', key: labelsKey(labelString), value: String(id) },
          { kind: 'put', key: value, value: String(id), leased: true },
        ],
      );
      if (!recreated.succeeded) {
        throw new Error(
          `restore identity ${id} for ${labelString}: taken by another allocation while node ${this.nodeName} was cut off`,
        );
      }
    }
  }

  close(): void {
    this.stopRestoring();
  }
}

function parseId(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]+$/.test(value)) return undefined;
  return Number(value);
}
