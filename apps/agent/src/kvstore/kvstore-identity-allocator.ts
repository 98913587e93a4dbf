// The agent's identity seam over libs/identity: an endpoint's security-relevant labels to a cluster-wide
// identity in etcd, reference counted per node; reserved identities from the table; local identities
// (CIDR) from the policy engine, which allocates them for the prefixes its rules name.
import { reservedIdentities, type IdentityAllocator as LibIdentityAllocator, type IdentityCache, type LabelSet } from '@cilium-ts/identity';
import { parseLabel, LabelSource } from '@cilium-ts/labels';
import type { AllocatedIdentity, IdentityAllocator } from '../seams.js';
import { formatAgentLabel, securityLabels } from '../policy/security-labels.js';
import { allocatedIdentityOf, type ClusterIdentities } from './cluster-state.js';

const INIT_IDENTITY: AllocatedIdentity = { id: 5, labels: ['reserved:init'] };

export interface KvstoreIdentityAllocatorOptions {
  allocator: LibIdentityAllocator;
  cache: IdentityCache;
  identities: ClusterIdentities;
  /** Node-local identities held elsewhere (the policy engine's CIDR identities). */
  localIdentities?: () => AllocatedIdentity[];
}

export class KvstoreIdentityAllocator implements IdentityAllocator {
  /** Label sets of the identities this node holds references on, to release them by id. */
  private readonly held = new Map<number, LabelSet>();

  constructor(private readonly options: KvstoreIdentityAllocatorOptions) {}

  async allocate(labels: readonly string[]): Promise<AllocatedIdentity> {
    const security = securityLabels(labels);
    if (security.init) return INIT_IDENTITY;
    // The allocator re-uses an identity it sees in the cache; without the start-up state it would race.
    await this.options.cache.synced;
    const labelSet = security.labels.map((l) => `${l.source}:${l.key}=${l.value}`);
    const { identity } = await this.options.allocator.allocate(labelSet);
    const allocated = allocatedIdentityOf(identity);
    if (identity.scope !== 'reserved') {
      this.held.set(identity.id, identity.labels);
      this.options.identities.announce(allocated);
    }
    return allocated;
  }

  async release(id: number): Promise<void> {
    const labels = this.held.get(id);
    if (!labels) return;
    const last = await this.options.allocator.release(labels);
    if (last) this.held.delete(id);
  }

  async get(id: number): Promise<AllocatedIdentity | undefined> {
    // An identity this node just allocated may not have come back through the watch yet.
    return this.options.identities.get(id) ?? this.options.localIdentities?.().find((i) => i.id === id);
  }

  async list(): Promise<AllocatedIdentity[]> {
    const reserved = reservedIdentities().map((r) => ({ id: r.id, labels: r.labels.map((l) => formatAgentLabel(parseLabel(l, LabelSource.unspec))) }));
    const cluster = this.options.identities.list();
    const ids = new Set(cluster.map((i) => i.id));
    const local = (this.options.localIdentities?.() ?? []).filter((i) => !ids.has(i.id));
    return [...reserved, ...cluster, ...local].sort((a, b) => a.id - b.id);
  }
}
