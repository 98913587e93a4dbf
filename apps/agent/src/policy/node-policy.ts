// The node's policy engine (libs/policy) fed with every identity the node knows, and rebuilt when the agent's
// enforcement mode changes (the engine takes the mode at construction). Identity changes from other nodes
// update the selector cache incrementally; the endpoints whose map state moved are reported to listeners.
import { InMemoryLocalIdentityAllocator, PolicyEngine, Repository, type EndpointPolicy, type EnforcementMode, type IdentityUpdate } from '@cilium-ts/policy';
import { isLocalIdentity, labelArrayKey, type Label } from '@cilium-ts/labels';
import type { AllocatedIdentity } from '../seams.js';
import { formatAgentLabel, parseAgentLabels } from './security-labels.js';

/** What the node knows about identities: the kvstore's cluster state (see kvstore/cluster-state.ts). */
export interface IdentitySource {
  list(): AllocatedIdentity[];
  onChange(listener: (change: { kind: 'upsert' | 'delete'; value: AllocatedIdentity }) => void): () => void;
  /** Resolves once the identities existing at start-up are known. */
  readonly synced?: Promise<void>;
}

export type InvalidateListener = (endpointIds: readonly number[], reason: string) => void;

/** A prefix named by a CIDR rule and the node-local identity the engine gave it; the ipcache must map it. */
export interface CidrIdentity {
  prefix: string;
  identity: number;
}

/** `cidr:10.0.0.0/8`, or `cidr:2001-db8--/32` for IPv6 (':' separates the label source). */
function cidrPrefixOf(labels: readonly Label[]): string | undefined {
  const cidr = labels.find((l) => l.source === 'cidr');
  if (!cidr) return undefined;
  return cidr.key.includes('.') ? cidr.key : cidr.key.replaceAll('-', ':');
}

export class NodePolicy {
  readonly repository = new Repository();
  /** Shared by every engine built, so a CIDR keeps its local identity across a mode change. */
  private readonly localAllocator = new InMemoryLocalIdentityAllocator();
  private readonly identities = new Map<number, readonly Label[]>();
  private readonly endpointLabels = new Map<number, string>();
  private readonly listeners = new Set<InvalidateListener>();
  private readonly cidrListeners = new Set<() => void>();
  private cidrKey = '';
  private engineMode: EnforcementMode;
  private current: PolicyEngine;
  private pending: { added: Map<number, readonly Label[]>; removed: Set<number> } | undefined;
  private readonly unsubscribe: (() => void) | undefined;
  private readonly unsubscribeRepository: () => void;
  /**
   * Resolves when the selector cache holds the identities that existed at start-up. Computing before that
   * would leave out peers that are allowed, and a restarted agent would write that narrower policy.
   */
  readonly synced: Promise<void>;

  constructor(mode: EnforcementMode, source?: IdentitySource) {
    this.engineMode = mode;
    this.current = this.build(mode);
    this.synced = source?.synced ?? Promise.resolve();
    this.unsubscribeRepository = this.repository.onChange(() => this.refreshCidrIdentities());
    if (source) {
      this.unsubscribe = source.onChange((c) => this.queue(c.kind, c.value));
      for (const i of source.list()) this.queue('upsert', i);
      this.flush();
    }
  }

  /** The engine for `mode`, rebuilt (with every identity) if the mode changed since the last call. */
  engineFor(mode: EnforcementMode): PolicyEngine {
    if (mode !== this.engineMode) {
      this.engineMode = mode;
      this.current = this.build(mode);
      this.endpointLabels.clear();
    }
    return this.current;
  }

  /** The endpoint's policy at the repository's current revision. */
  endpointPolicy(endpointId: number, labels: readonly Label[], mode: EnforcementMode): EndpointPolicy {
    const engine = this.engineFor(mode);
    this.flush();
    const key = labelArrayKey(labels);
    if (this.endpointLabels.get(endpointId) === key) {
      // Same labels: the engine keeps the policy current; this only brings it to the latest revision.
      engine.takeChanges();
      const policy = engine.endpointPolicy(endpointId);
      if (policy) return policy;
    }
    this.endpointLabels.set(endpointId, key);
    return engine.upsertEndpoint(endpointId, labels).policy;
  }

  forget(endpointId: number): void {
    this.endpointLabels.delete(endpointId);
    this.current.removeEndpoint(endpointId);
  }

  /** The node-local (CIDR) identities the engine allocated for the prefixes in its rules. */
  localIdentities(): AllocatedIdentity[] {
    const out: AllocatedIdentity[] = [];
    for (const { id, labels } of this.current.selectorCache.allIdentities()) {
      if (isLocalIdentity(id)) out.push({ id, labels: labels.map(formatAgentLabel) });
    }
    return out;
  }

  /** The CIDR prefixes the rules in force name, with their local identities. */
  cidrIdentities(): CidrIdentity[] {
    const out: CidrIdentity[] = [];
    for (const { id, labels } of this.current.selectorCache.allIdentities()) {
      const prefix = isLocalIdentity(id) ? cidrPrefixOf(labels) : undefined;
      if (prefix) out.push({ prefix, identity: id });
    }
    return out.sort((a, b) => a.prefix.localeCompare(b.prefix));
  }

  /** Called when {@link cidrIdentities} changed (after a policy change). */
  onCidrIdentitiesChange(listener: () => void): () => void {
    this.cidrListeners.add(listener);
    return () => this.cidrListeners.delete(listener);
  }

  onInvalidate(listener: InvalidateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribeRepository();
  }

  private refreshCidrIdentities(): void {
    // The engine allocates and releases CIDR identities when it catches up with the repository; the
    // endpoints' changes this reports are not lost: every endpoint is regenerated on a policy change.
    this.current.takeChanges();
    const now = this.cidrIdentities();
    const key = JSON.stringify(now);
    if (key === this.cidrKey) return;
    this.cidrKey = key;
    for (const l of this.cidrListeners) l();
  }

  private build(mode: EnforcementMode): PolicyEngine {
    const engine = new PolicyEngine({ repository: this.repository, enforcementMode: mode, allocator: this.localAllocator });
    const known: IdentityUpdate[] = [...this.identities].map(([id, labels]) => ({ id, labels }));
    if (known.length) engine.updateIdentities(known);
    return engine;
  }

  // Identities arrive one watch event at a time; a burst (a node starting many pods) is applied at once.
  private queue(kind: 'upsert' | 'delete', identity: AllocatedIdentity): void {
    if (!this.pending) {
      this.pending = { added: new Map(), removed: new Set() };
      queueMicrotask(() => this.flush());
    }
    if (kind === 'upsert') {
      this.pending.added.set(identity.id, parseAgentLabels(identity.labels));
      this.pending.removed.delete(identity.id);
    } else {
      this.pending.removed.add(identity.id);
      this.pending.added.delete(identity.id);
    }
  }

  private flush(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    const added: IdentityUpdate[] = [];
    for (const [id, labels] of p.added) {
      const prev = this.identities.get(id);
      if (prev && labelArrayKey(prev) === labelArrayKey(labels)) continue;
      this.identities.set(id, labels);
      added.push({ id, labels });
    }
    const removed = [...p.removed].filter((id) => this.identities.delete(id));
    if (!added.length && !removed.length) return;
    const changed = this.current.updateIdentities(added, removed);
    const ids = [...changed.keys()].filter((id) => this.endpointLabels.has(id));
    if (!ids.length) return;
    const what = [...added.map((a) => `+${a.id}`), ...removed.map((id) => `-${id}`)].join(' ');
    for (const l of this.listeners) l(ids, `identities changed (${what})`);
  }
}
