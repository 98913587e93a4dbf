// Every identity this node knows: reserved ones, the cluster's (mirrored from etcd by a watch on
// the id prefix, so other nodes' allocations arrive here) and this node's local ones. Lookups
// never touch etcd; subscribers hear about every identity that appears or goes away.
import type { Identity, IdentityChangeListener, IdentityChangeEvent } from './identity.js';
import { ID_PREFIX, parseIdKey } from './identity-keys.js';
import type { Kvstore } from './kvstore.js';
import { canonicalLabels, parseLabelString, type LabelSet } from './labels.js';
import { watchPrefix, type KvEvent, type PrefixWatch } from './prefix-watch.js';
import { lookupReservedById, lookupReservedByLabelString } from './reserved-identities.js';
import { Listeners } from './listeners.js';

export class IdentityCache {
  private readonly byId = new Map<number, Identity>();
  private readonly byLabels = new Map<string, Identity>();
  private readonly listeners = new Listeners<IdentityChangeEvent>();
  private readonly watch: PrefixWatch;
  /** Resolves when the identities existing at start-up are all known. */
  readonly synced: Promise<void>;

  constructor(kv: Kvstore) {
    this.watch = watchPrefix(kv, ID_PREFIX, (event) => this.applyKvEvent(event));
    this.synced = this.watch.synced;
  }

  /** The etcd revision up to which the cache has seen every identity change. */
  get revision(): number {
    return this.watch.lastRevision;
  }

  onChange(listener: IdentityChangeListener): () => void {
    return this.listeners.add(listener);
  }

  lookupById(id: number): Identity | undefined {
    const reserved = lookupReservedById(id);
    if (reserved) return reservedIdentity(reserved.id, reserved.labels);
    return this.byId.get(id);
  }

  lookupByLabels(labels: LabelSet | string): Identity | undefined {
    const labelString = typeof labels === 'string' ? labels : canonicalLabels(labels);
    const reserved = lookupReservedByLabelString(labelString);
    if (reserved) return reservedIdentity(reserved.id, reserved.labels);
    return this.byLabels.get(labelString);
  }

  /** Cluster and local identities known now (reserved ones are implicit). */
  identities(): Identity[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  /** Local identities never reach etcd; the allocator announces them here. */
  upsertLocal(identity: Identity): void {
    this.upsert(identity);
  }

  deleteLocal(id: number): void {
    this.remove(id);
  }

  private applyKvEvent(event: KvEvent): void {
    const id = parseIdKey(event.key);
    if (id === undefined) return;
    if (event.kind === 'delete') {
      this.remove(id);
      return;
    }
    const labelString = event.value;
    this.upsert({ id, labelString, labels: parseLabelString(labelString), scope: 'global' });
  }

  private upsert(identity: Identity): void {
    const previous = this.byId.get(identity.id);
    if (previous && previous.labelString === identity.labelString) return;
    if (previous) this.dropLabelsIndex(previous);
    this.byId.set(identity.id, identity);
    // Two ids for one label set can only be a leftover awaiting GC; keep the lowest stable.
    const other = this.byLabels.get(identity.labelString);
    if (!other || other.id > identity.id) this.byLabels.set(identity.labelString, identity);
    this.listeners.emit({ kind: 'upsert', id: identity.id, labels: identity.labels });
  }

  private remove(id: number): void {
    const previous = this.byId.get(id);
    if (!previous) return;
    this.byId.delete(id);
    this.dropLabelsIndex(previous);
    this.listeners.emit({ kind: 'delete', id, labels: previous.labels });
  }

  private dropLabelsIndex(identity: Identity): void {
    if (this.byLabels.get(identity.labelString)?.id !== identity.id) return;
    this.byLabels.delete(identity.labelString);
    for (const candidate of this.byId.values()) {
      if (candidate.labelString !== identity.labelString || candidate.id === identity.id) continue;
      const current = this.byLabels.get(candidate.labelString);
      if (!current || current.id > candidate.id) this.byLabels.set(candidate.labelString, candidate);
    }
  }


  async close(): Promise<void> {
    await this.watch.close();
  }
}

const reservedIdentities = new Map<number, Identity>();

function reservedIdentity(id: number, labels: string[]): Identity {
  let identity = reservedIdentities.get(id);
  if (!identity) {
    const labelString = canonicalLabels(labels);
    identity = Object.freeze({ id, labels: parseLabelString(labelString), labelString, scope: 'reserved' as const });
    reservedIdentities.set(id, identity);
  }
  return identity;
}
