// The policy engine an agent holds: repository, selector cache, CIDR identities, and one policy per endpoint,
// with the map state changes each identity or policy update causes.
import type { Label } from '@cilium-ts/labels';
import { cidrLabel, labelArrayKey, LabelSource, PodNamespaceLabel } from '@cilium-ts/labels';
import type { Direction, L7Parser, PolicyRule } from './model.js';
import type { IdentityUpdate } from './selector-cache.js';
import { SelectorCache } from './selector-cache.js';
import { LabelIndex, selectorMatches } from './selector.js';
import { parsePrefix } from './cidr.js';
import { reservedIdentities } from '@cilium-ts/labels';
import { InMemoryLocalIdentityAllocator, type LocalIdentityAllocator } from './local-identities.js';
import { Repository } from './repository.js';
import type { EnforcementMode, Enforcement, MapStateSnapshot, NamedPort, ResolveOptions } from './selector-policy.js';
import type { L7PortPolicy } from './l7-policy.js';
import { diffSnapshots, SelectorPolicy } from './selector-policy.js';
import type { LookupResult, MapStateChanges, MapStateView } from './map-state.js';
import { isEmptyChange } from './map-state.js';

export interface PolicyEngineOptions {
  readonly selectorCache?: SelectorCache;
  readonly repository?: Repository;
  readonly allocator?: LocalIdentityAllocator;
  readonly enforcementMode?: EnforcementMode;
  readonly allowLocalhost?: 'always' | 'policy';
  readonly proxyPortFor?: (parser: L7Parser, direction: Direction) => number;
  readonly nodeNamedPorts?: readonly NamedPort[];
  readonly dualStack?: boolean;
  /** Add the reserved identities to a new selector cache (default true). */
  readonly withReservedIdentities?: boolean;
}

/** Default proxy ports per L7 parser and direction; an agent passes its own allocation. */
export function defaultProxyPort(parser: L7Parser, direction: Direction): number {
  const base = { http: 10001, kafka: 10003, dns: 10005 }[parser];
  return parser === 'dns' ? base : base + (direction === 'egress' ? 1 : 0);
}

/** What an agent holds per endpoint: its current map state, enforcement and L7 policy. */
export interface EndpointPolicy {
  readonly endpointId: number;
  readonly labels: readonly Label[];
  readonly mapState: MapStateView;
  readonly enforcement: Enforcement;
  readonly rules: readonly PolicyRule[];
  readonly l7: readonly L7PortPolicy[];
  /** Rules that could not be merged for this endpoint (S-15); the offending parts are left out. */
  readonly errors: readonly string[];
  lookup(identity: number, direction: Direction, protocol: number, port: number): LookupResult;
}

interface EndpointRecord {
  readonly labels: readonly Label[];
  readonly namedPorts: readonly NamedPort[];
  shareKey: string;
}

interface Shared {
  policy: SelectorPolicy;
  readonly endpoints: Set<number>;
}

export class PolicyEngine {
  readonly selectorCache: SelectorCache;
  readonly repository: Repository;
  private readonly allocator: LocalIdentityAllocator;
  private options: ResolveOptions;
  private readonly endpoints = new Map<number, EndpointRecord>();
  private shared = new Map<string, Shared>();
  // Endpoints whose policy was rebuilt since changes were last reported, with the map state reported last.
  private readonly unreported = new Map<number, MapStateSnapshot | undefined>();
  private readonly cidrIdentities = new Map<string, number>();
  private builtRevision: number;

  constructor(options: PolicyEngineOptions = {}) {
    this.selectorCache = options.selectorCache ?? new SelectorCache({ dualStack: options.dualStack === true });
    if (options.selectorCache === undefined && options.withReservedIdentities !== false) {
      this.selectorCache.updateIdentities(reservedIdentities({ dualStack: options.dualStack === true }));
    }
    this.repository = options.repository ?? new Repository();
    this.allocator = options.allocator ?? new InMemoryLocalIdentityAllocator();
    this.options = {
      enforcementMode: options.enforcementMode ?? 'default',
      allowLocalhost: options.allowLocalhost ?? 'always',
      proxyPortFor: options.proxyPortFor ?? defaultProxyPort,
      nodeNamedPorts: options.nodeNamedPorts ?? [],
    };
    this.builtRevision = this.repository.revision;
    this.ensureCidrIdentities(this.repository.rules());
  }

  /** Adds or updates an endpoint and returns its policy; `changes` are the entries to write for it. */
  upsertEndpoint(
    endpointId: number,
    labels: readonly Label[],
    namedPorts: readonly NamedPort[] = [],
  ): { policy: EndpointPolicy; changes: MapStateChanges } {
    this.syncRepository();
    const before = this.unreported.has(endpointId) ? this.unreported.get(endpointId) : this.endpointSnapshot(endpointId);
    this.unreported.delete(endpointId);
    this.detach(endpointId);
    const rec: EndpointRecord = { labels, namedPorts, shareKey: shareKey(labels, namedPorts) };
    this.endpoints.set(endpointId, rec);
    const shared = this.attach(endpointId, rec);
    // The diff is taken against the snapshot of now but built only when read: a new endpoint's changes are
    // its whole map state, which the caller may prefer to read from `policy.mapState` instead.
    const after = shared.policy.snapshot();
    let diff: MapStateChanges | undefined;
    const changes: MapStateChanges = {
      get adds() {
        diff ??= diffSnapshots(before, after);
        return diff.adds;
      },
      get deletes() {
        diff ??= diffSnapshots(before, after);
        return diff.deletes;
      },
    };
    return { policy: this.view(endpointId), changes };
  }

  removeEndpoint(endpointId: number): void {
    this.detach(endpointId);
    this.endpoints.delete(endpointId);
    this.unreported.delete(endpointId);
  }

  /** The endpoint's policy as last computed (call {@link takeChanges} after changing the repository directly). */
  endpointPolicy(endpointId: number): EndpointPolicy | undefined {
    return this.endpoints.has(endpointId) ? this.view(endpointId) : undefined;
  }

  endpointIds(): number[] {
    return [...this.endpoints.keys()];
  }

  /**
   * Identities appeared (or changed labels) or went: updates the selector cache and returns, per affected
   * endpoint, only the map entries to add or change and the keys to delete.
   */
  updateIdentities(added: readonly IdentityUpdate[], removed: readonly number[] = []): Map<number, MapStateChanges> {
    this.syncRepository();
    this.selectorCache.updateIdentities(added, removed);
    return this.collectChanges();
  }

  /**
   * Changes not reported yet, after the repository was changed directly (`engine.repository.apply(...)`):
   * recomputes the endpoints against the new revision and returns their changes.
   */
  takeChanges(): Map<number, MapStateChanges> {
    this.syncRepository();
    return this.collectChanges();
  }

  /** Same as {@link updateIdentities}, by the name the agent's identity watcher uses. */
  onIdentitiesChanged(added: readonly IdentityUpdate[], removed: readonly number[] = []): Map<number, MapStateChanges> {
    return this.updateIdentities(added, removed);
  }

  /** Applies policy text to the repository and returns the result and the per-endpoint changes. */
  applyPolicies(text: string): { result: ReturnType<Repository['apply']>; changes: Map<number, MapStateChanges> } {
    const result = this.repository.apply(text);
    return { result, changes: result.ok ? this.regenerate() : new Map() };
  }

  /**
   * Recomputes every endpoint's policy against the current repository and returns the changes per
   * endpoint. Other methods do the same, and report the changes, when the repository's revision moved.
   */
  regenerate(): Map<number, MapStateChanges> {
    this.rebuild();
    return this.collectChanges();
  }

  /**
   * The policy an endpoint with these labels would get, resolved against a private selector cache that
   * holds only `peers`: exact for lookups of those peers, and invisible to the endpoints' pending changes.
   * Used by explanations.
   */
  evaluate(labels: readonly Label[], peers: readonly IdentityUpdate[], namedPorts: readonly NamedPort[] = []): SelectorPolicy {
    this.syncRepository();
    const scratch = new SelectorCache({ dualStack: this.selectorCache.dualStack });
    scratch.updateIdentities(peers);
    return new SelectorPolicy(scratch, labels, namedPorts, this.rulesSelecting(labels), this.options);
  }

  /** The rules whose subject selects an endpoint with these labels, in repository order. */
  rulesSelecting(labels: readonly Label[]): PolicyRule[] {
    const idx = new LabelIndex(labels);
    const index = this.repository.subjectIndex();
    const ns = labels.find((l) => l.key === PodNamespaceLabel && l.source === LabelSource.k8s)?.value;
    const groups = [...(index.get('*') ?? []), ...(ns !== undefined ? index.get(ns) ?? [] : [])];
    const selected = new Set<PolicyRule>();
    for (const g of groups) if (selectorMatches(g.subject, idx)) for (const r of g.rules) selected.add(r);
    return [...selected].sort((a, b) => this.repository.position(a) - this.repository.position(b));
  }

  /** The identity the selector cache knows for exactly these labels, if any. */
  identityOf(labels: readonly Label[]): number | undefined {
    const key = labelArrayKey(labels);
    for (const { id, labels: l } of this.selectorCache.allIdentities()) if (labelArrayKey(l) === key) return id;
    return undefined;
  }

  /** The local identity allocated for a CIDR prefix used in policy, if any. */
  cidrIdentity(prefix: string): number | undefined {
    const p = parsePrefix(prefix);
    return p === undefined ? undefined : this.cidrIdentities.get(p.text);
  }

  private syncRepository(): void {
    if (this.repository.revision !== this.builtRevision) this.rebuild();
  }

  /** New policies for every endpoint; what each endpoint had before is kept until the changes are reported. */
  private rebuild(): void {
    for (const [id, rec] of this.endpoints) {
      if (!this.unreported.has(id)) this.unreported.set(id, this.shared.get(rec.shareKey)?.policy.snapshot());
    }
    this.builtRevision = this.repository.revision;
    this.ensureCidrIdentities(this.repository.rules());
    const old = this.shared;
    this.shared = new Map();
    for (const [id, rec] of this.endpoints) this.attach(id, rec);
    for (const s of old.values()) s.policy.release();
    this.releaseUnusedCidrIdentities(this.repository.rules());
  }

  /**
   * Named ports of all endpoints on the node, against which egress rules resolve port names; returns the
   * changes per endpoint.
   */
  setNodeNamedPorts(ports: readonly NamedPort[]): Map<number, MapStateChanges> {
    this.options = { ...this.options, nodeNamedPorts: [...ports] };
    return this.regenerate();
  }

  /** Incremental changes of every policy, and full diffs for endpoints whose policy was rebuilt. */
  private collectChanges(): Map<number, MapStateChanges> {
    const out = new Map<number, MapStateChanges>();
    for (const s of this.shared.values()) {
      const c = s.policy.takeChanges();
      if (isEmptyChange(c)) continue;
      for (const id of s.endpoints) if (!this.unreported.has(id)) out.set(id, c);
    }
    for (const [id, before] of this.unreported) {
      const rec = this.endpoints.get(id);
      const shared = rec === undefined ? undefined : this.shared.get(rec.shareKey);
      if (shared === undefined) continue;
      const c = diffSnapshots(before, shared.policy.snapshot());
      if (!isEmptyChange(c)) out.set(id, c);
    }
    this.unreported.clear();
    return out;
  }

  /** Releases the CIDR identities no rule refers to any more (after the policies were rebuilt). */
  private releaseUnusedCidrIdentities(rules: readonly PolicyRule[]): void {
    const used = new Set<string>();
    for (const r of rules) {
      for (const peer of r.peers) {
        if (peer.type !== 'cidr') continue;
        for (const text of [peer.cidr, ...peer.except]) {
          const p = parsePrefix(text);
          if (p !== undefined) used.add(p.text);
        }
      }
    }
    const stale: number[] = [];
    for (const [prefix, id] of this.cidrIdentities) {
      if (used.has(prefix)) continue;
      stale.push(id);
      this.cidrIdentities.delete(prefix);
    }
    if (stale.length === 0) return;
    this.selectorCache.updateIdentities([], stale);
    for (const id of stale) this.allocator.releaseLocalIdentity?.(id);
  }

  private ensureCidrIdentities(rules: readonly PolicyRule[]): void {
    const added: IdentityUpdate[] = [];
    for (const r of rules) {
      for (const peer of r.peers) {
        if (peer.type !== 'cidr') continue;
        for (const text of [peer.cidr, ...peer.except]) {
          const p = parsePrefix(text);
          if (p === undefined || this.cidrIdentities.has(p.text)) continue;
          const world = this.selectorCache.dualStack ? (p.family === 4 ? 'world-ipv4' : 'world-ipv6') : 'world';
          const labels: Label[] = [
            cidrLabel(p.text),
            { source: LabelSource.reserved, key: world, value: '' },
          ];
          const id = this.allocator.allocateLocalIdentity(labels);
          this.cidrIdentities.set(p.text, id);
          added.push({ id, labels });
        }
      }
    }
    if (added.length > 0) {
      this.selectorCache.updateIdentities(added);
      // Full recomputation follows, so the incremental changes these caused are not reported separately.
      for (const s of this.shared.values()) s.policy.takeChanges();
    }
  }

  private attach(endpointId: number, rec: EndpointRecord): Shared {
    let shared = this.shared.get(rec.shareKey);
    if (shared === undefined) {
      const policy = new SelectorPolicy(this.selectorCache, rec.labels, rec.namedPorts, this.rulesSelecting(rec.labels), this.options);
      shared = { policy, endpoints: new Set() };
      this.shared.set(rec.shareKey, shared);
    }
    shared.endpoints.add(endpointId);
    return shared;
  }

  private detach(endpointId: number): void {
    const rec = this.endpoints.get(endpointId);
    if (rec === undefined) return;
    const shared = this.shared.get(rec.shareKey);
    if (shared === undefined) return;
    shared.endpoints.delete(endpointId);
    if (shared.endpoints.size === 0) {
      shared.policy.release();
      this.shared.delete(rec.shareKey);
    }
  }

  private endpointSnapshot(endpointId: number): MapStateSnapshot | undefined {
    const rec = this.endpoints.get(endpointId);
    return rec === undefined ? undefined : this.shared.get(rec.shareKey)?.policy.snapshot();
  }

  private view(endpointId: number): EndpointPolicy {
    const current = (): SelectorPolicy => {
      const rec = this.endpoints.get(endpointId);
      const s = rec === undefined ? undefined : this.shared.get(rec.shareKey);
      if (rec === undefined || s === undefined) throw new Error(`endpoint policy: endpoint ${endpointId} is not known`);
      return s.policy;
    };
    return {
      endpointId,
      get labels() {
        return current().labels;
      },
      get mapState() {
        return current();
      },
      get enforcement() {
        return current().enforcement;
      },
      get rules() {
        return current().rules;
      },
      get l7() {
        return current().l7;
      },
      get errors() {
        return current().errors;
      },
      lookup: (identity, direction, protocol, port) => current().lookup(identity, direction, protocol, port),
    };
  }
}

function shareKey(labels: readonly Label[], namedPorts: readonly NamedPort[]): string {
  const ports = [...namedPorts].map((p) => `${p.name}=${p.protocol}/${p.port}`).sort().join(',');
  return `${labelArrayKey(labels)}|${ports}`;
}
