// The policy of one endpoint (one set of identity labels and named ports): the rules that select it, resolved
// into filters over cached selectors, and its map state kept per identity so identity changes stay cheap.
import type { Label } from '@cilium-ts/labels';
import { LabelSource } from '@cilium-ts/labels';
import type { AuthMode, Direction, L7Parser, L7Rules, PolicyRule, PortProtocol, RuleOrigin } from './model.js';
import { SyntheticOrigins } from './model.js';
import type { CachedSelector, SelectionChange, SelectorCache, SelectorUser } from './selector-cache.js';
import type { MapStateChanges, MapStateEntry, MapStateView, PolicyEntry, PolicyKey, Verdict, LookupResult } from './map-state.js';
import { AuthType, lookupMapState, Proto, formatPolicyKey } from './map-state.js';
import { maskToPrefixLength, portRangeToMaskedPorts } from './port-range.js';
import type { L4Key, RawEntry, Template } from './partition.js';
import { computeTemplate, l4Number } from './partition.js';
import type { L7PortPolicy } from './l7-policy.js';
import { allowAllL7, concatL7, L7PolicyBuilder } from './l7-policy.js';
import { ReservedIdentity } from '@cilium-ts/labels';

export type EnforcementMode = 'default' | 'always' | 'never';

/** A named container port of an endpoint (or of any endpoint on the node, for egress). */
export interface NamedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface ResolveOptions {
  readonly enforcementMode: EnforcementMode;
  /** `always`: the host may always reach the endpoint (upstream allow-localhost default). */
  readonly allowLocalhost: 'always' | 'policy';
  readonly proxyPortFor: (parser: L7Parser, direction: Direction) => number;
  /** Named ports of every endpoint on the node, for egress rules. */
  readonly nodeNamedPorts: readonly NamedPort[];
}

interface Filter {
  readonly selector: CachedSelector;
  /** The entries this filter gives every identity its selector selects. */
  readonly raw: readonly RawEntry[];
}

/** The map state of a policy as immutable templates per identity; cheap to keep for diffs. */
export interface MapStateSnapshot {
  readonly any: Template;
  readonly partitions: ReadonlyMap<number, Template>;
}

const emptyTemplate: Template = new Map();

const authTypes: Readonly<Record<AuthMode, number>> = { disabled: AuthType.none, required: AuthType.spire, 'test-always-fail': AuthType.alwaysFail };

export interface Enforcement {
  readonly ingress: boolean;
  readonly egress: boolean;
}

const protoNumber: Readonly<Record<string, number>> = { TCP: Proto.tcp, UDP: Proto.udp, SCTP: Proto.sctp, ICMP: Proto.icmp, ICMPv6: Proto.icmpv6 };

export class SelectorPolicy implements SelectorUser, MapStateView {
  readonly enforcement: Enforcement;
  readonly errors: string[] = [];
  readonly rules: readonly PolicyRule[];
  readonly l7: L7PortPolicy[] = [];
  private readonly filters: Filter[] = [];
  private readonly bySelector = new Map<CachedSelector, RawEntry[]>();
  // Non-wildcard selectors in a fixed order: an identity's signature is the indexes of those selecting it.
  private selectorList: CachedSelector[] = [];
  private rawByIndex: (readonly RawEntry[])[] = [];
  // Every registration in the selector cache, released one for one.
  private readonly held: [CachedSelector, SelectorUser | undefined][] = [];
  private any: Template = emptyTemplate;
  private readonly partitions = new Map<number, Template>();
  private readonly templates = new Map<string, Template>();
  private hostExtra: RawEntry[] = [];
  private hostAllow = false;
  private pendingAdds: MapStateEntry[] = [];
  private pendingDeletes: PolicyKey[] = [];
  private released = false;

  constructor(
    private readonly cache: SelectorCache,
    readonly labels: readonly Label[],
    readonly namedPorts: readonly NamedPort[],
    selectedRules: readonly PolicyRule[],
    private readonly options: ResolveOptions,
  ) {
    const rules = options.enforcementMode === 'never' ? [] : selectedRules;
    this.rules = rules;
    const isInit = labels.some((l) => l.source === LabelSource.reserved && l.key === 'init');
    const enforced = (d: Direction) =>
      options.enforcementMode === 'always' ||
      (options.enforcementMode === 'default' && (isInit || rules.some((r) => r.direction === d && r.defaultDeny)));
    this.enforcement = { ingress: enforced('ingress'), egress: enforced('egress') };
    this.resolve();
    this.computeAll();
  }

  get size(): number {
    let n = this.any.size;
    for (const p of this.partitions.values()) n += p.size;
    return n;
  }

  get(key: PolicyKey): PolicyEntry | undefined {
    const p = key.identity === 0 ? this.any : this.partitions.get(key.identity);
    return p?.get(l4Number(key))?.entry;
  }

  *[Symbol.iterator](): Iterator<MapStateEntry> {
    for (const e of this.any.values()) yield { key: { ...e.l4, identity: 0 }, entry: e.entry };
    for (const [id, p] of this.partitions) for (const e of p.values()) yield { key: { ...e.l4, identity: id }, entry: e.entry };
  }

  /** The templates as they are now; see {@link diffSnapshots}. */
  snapshot(): MapStateSnapshot {
    return { any: this.any, partitions: new Map(this.partitions) };
  }

  /** The datapath's verdict for one packet (see {@link lookupMapState}), looking only at the two relevant slices. */
  lookup(identity: number, direction: Direction, protocol: number, port: number): LookupResult {
    const entries: MapStateEntry[] = [];
    for (const e of this.any.values()) entries.push({ key: { ...e.l4, identity: 0 }, entry: e.entry });
    for (const e of this.partitions.get(identity)?.values() ?? []) entries.push({ key: { ...e.l4, identity }, entry: e.entry });
    return lookupMapState(entries, identity, direction, protocol, port);
  }

  /** Whether the peer selector with this key (as in {@link L7SelectorPolicy.selector}) selects `identity`. */
  selects(selector: string, identity: number): boolean {
    const cs = this.cache.get(selector);
    return cs !== undefined && (cs.isWildcard || cs.selects(identity));
  }

  /** Changes accumulated since the last call, from identity updates in the selector cache. */
  takeChanges(): MapStateChanges {
    const c = { adds: this.pendingAdds, deletes: this.pendingDeletes };
    this.pendingAdds = [];
    this.pendingDeletes = [];
    return c;
  }

  /** Unregisters from the selector cache; the policy must not be used afterwards. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const [cs, user] of this.held) this.cache.removeSelector(cs, user);
    this.held.length = 0;
  }

  selectionsChanged(changes: ReadonlyMap<CachedSelector, SelectionChange>): void {
    const ids = new Set<number>();
    for (const c of changes.values()) {
      for (const id of c.added) ids.add(id);
      for (const id of c.removed) ids.add(id);
    }
    const out = { adds: this.pendingAdds, deletes: this.pendingDeletes };
    for (const id of ids) {
      const before = this.partitions.get(id);
      const after = this.computeIdentity(id);
      if (after.size === 0) this.partitions.delete(id);
      else this.partitions.set(id, after);
      if (before !== after) diffTemplates(id, before, after, out);
    }
  }

  private resolve(): void {
    const l7 = new L7PolicyBuilder();
    for (const rule of this.rules) {
      const portEntries: { keys: L4Key[]; l7?: L7Rules }[] = [];
      if (rule.toPorts === undefined) {
        portEntries.push({ keys: [{ direction: rule.direction, protocol: 0, port: 0, prefixLength: 0 }] });
      } else {
        for (const pr of rule.toPorts) {
          const keys = pr.ports.length === 0
            ? [{ direction: rule.direction, protocol: 0, port: 0, prefixLength: 0 }]
            : pr.ports.flatMap((pp) => this.l4Keys(rule.direction, pp));
          let rules = pr.l7;
          if (rules !== undefined && !rule.defaultDeny) {
            // S-18: without default deny, L7 rules observe but must not block what else would be allowed.
            rules = concatL7(rules.type, [rules, allowAllL7(rules.type)]);
          }
          portEntries.push(rules !== undefined ? { keys, l7: rules } : { keys });
        }
      }
      for (const peer of rule.peers) {
        const wildcardPeer = peer.type === 'labels' && peer.requirements.length === 0;
        // Wildcard peers give ANY keys whatever the identities, so they need no notifications.
        const user = wildcardPeer ? undefined : this;
        const cs = this.cache.addSelector(peer, user);
        this.held.push([cs, user]);
        for (const pe of portEntries) {
          let keys = pe.keys;
          if (!rule.deny && pe.l7 !== undefined) {
            const rules = pe.l7;
            keys = keys.filter((k) => {
              const conflict = l7.addL7(k, cs.key, rules, rule.origin);
              if (conflict === undefined) return true;
              this.errors.push(
                `cannot merge conflicting L7 parsers (${conflict} and ${rules.type}) on ${formatPolicyKey({ ...k, identity: 0 })} for selector ${cs.key}`,
              );
              return false;
            });
          } else if (!rule.deny) {
            for (const k of keys) l7.addPlainAllow(k, cs.key, rule.origin);
          }
          const parser = rule.deny ? undefined : pe.l7?.type;
          const verdict: Verdict = rule.deny ? 'deny' : parser !== undefined ? 'redirect' : 'allow';
          const proxyPort = parser !== undefined ? this.options.proxyPortFor(parser, rule.direction) : 0;
          const raw: RawEntry[] = keys.map((l4) => ({
            l4,
            n: l4Number(l4),
            verdict,
            proxyPort,
            ...(parser !== undefined ? { l7Parser: parser } : {}),
            ...(rule.auth !== undefined && !rule.deny ? { auth: authTypes[rule.auth] } : {}),
            origin: rule.origin,
          }));
          this.filters.push({ selector: cs, raw });
          if (!wildcardPeer) {
            const list = this.bySelector.get(cs);
            if (list === undefined) this.bySelector.set(cs, [...raw]);
            else list.push(...raw);
          }
        }
      }
    }
    this.l7.push(...l7.build(this.options.proxyPortFor));
    this.hostAllow = this.options.allowLocalhost === 'always' && this.enforcement.ingress;
    this.selectorList = [...this.bySelector.keys()];
    this.rawByIndex = this.selectorList.map((cs) => this.bySelector.get(cs) ?? []);
  }

  private l4Keys(direction: Direction, pp: PortProtocol): L4Key[] {
    const protocols = pp.protocol === 'ANY' ? ['TCP', 'UDP', 'SCTP'] : [pp.protocol];
    if (pp.protocol === 'ANY' && pp.port === 0 && pp.endPort === undefined) {
      return [{ direction, protocol: 0, port: 0, prefixLength: 0 }];
    }
    if (typeof pp.port === 'string') {
      const source = direction === 'ingress' ? this.namedPorts : this.options.nodeNamedPorts;
      const out: L4Key[] = [];
      const seen = new Set<string>();
      for (const np of source) {
        if (np.name !== pp.port || !protocols.includes(np.protocol)) continue;
        const k = { direction, protocol: protoNumber[np.protocol] ?? 0, port: np.port, prefixLength: 16 };
        const ks = `${k.protocol}/${k.port}`;
        if (!seen.has(ks)) out.push(k);
        seen.add(ks);
      }
      // S-13: a named port the endpoint does not have gives no key at all.
      return out;
    }
    const port = pp.port;
    if (pp.protocol === 'ICMP' || pp.protocol === 'ICMPv6') {
      return [{ direction, protocol: protoNumber[pp.protocol] ?? 0, port, prefixLength: 16 }];
    }
    const masked = portRangeToMaskedPorts(port, pp.endPort ?? port);
    return protocols.flatMap((p) =>
      masked.map((m) => ({ direction, protocol: protoNumber[p] ?? 0, port: m.port, prefixLength: maskToPrefixLength(m.mask) })),
    );
  }

  private anyRaw(): RawEntry[] {
    const raw: RawEntry[] = [];
    for (const f of this.filters) if (f.selector.isWildcard) raw.push(...f.raw);
    if (!this.enforcement.ingress) raw.push(allowAll('ingress', SyntheticOrigins.allowAllIngress));
    if (!this.enforcement.egress) raw.push(allowAll('egress', SyntheticOrigins.allowAllEgress));
    return raw;
  }

  private hostRaw(): RawEntry[] {
    if (!this.hostAllow) return [];
    const raw: RawEntry[] = [allowAll('ingress', SyntheticOrigins.allowLocalhostIngress)];
    // S-17: the host keeps bypassing the proxy on ports where the wildcard redirects.
    for (const e of this.any.values()) {
      if (e.l4.direction === 'ingress' && e.entry.verdict === 'redirect') {
        raw.push({ l4: e.l4, n: l4Number(e.l4), verdict: 'allow', proxyPort: 0, origin: SyntheticOrigins.allowLocalhostIngress });
      }
    }
    return raw;
  }

  private computeAll(): void {
    this.any = computeTemplate(this.anyRaw(), undefined);
    this.hostExtra = this.hostRaw();
    const signatures = new Map<number, string>();
    this.selectorList.forEach((cs, j) => {
      const part = `${j},`;
      for (const id of cs.selections) signatures.set(id, (signatures.get(id) ?? '') + part);
    });
    if (this.hostAllow && !signatures.has(ReservedIdentity.host)) signatures.set(ReservedIdentity.host, '');
    for (const [id, sig] of signatures) {
      const t = this.templateFor(sig, id === ReservedIdentity.host);
      if (t.size > 0) this.partitions.set(id, t);
    }
  }

  private computeIdentity(id: number): Template {
    let sig = '';
    for (let j = 0; j < this.selectorList.length; j++) if (this.selectorList[j]!.selections.has(id)) sig += `${j},`;
    if (sig === '' && !(this.hostAllow && id === ReservedIdentity.host)) return emptyTemplate;
    return this.templateFor(sig, id === ReservedIdentity.host);
  }

  /** Identities selected by the same selectors get the same entries: compute them once per signature. */
  private templateFor(sig: string, host: boolean): Template {
    const key = host ? `${sig}host` : sig;
    let t = this.templates.get(key);
    if (t === undefined) {
      const raw: RawEntry[] = [];
      for (const j of sig.split(',')) if (j !== '') raw.push(...this.rawByIndex[Number(j)]!);
      if (host) raw.push(...this.hostExtra);
      t = computeTemplate(raw, this.any);
      if (t.size === 0) t = emptyTemplate;
      this.templates.set(key, t);
    }
    return t;
  }
}

function sameEntry(a: PolicyEntry, b: PolicyEntry): boolean {
  return a === b || (a.verdict === b.verdict && a.proxyPort === b.proxyPort && a.authType === b.authType && a.origins.length === b.origins.length &&
    a.origins.every((o, i) => o === b.origins[i]));
}

function diffTemplates(
  identity: number,
  before: Template | undefined,
  after: Template | undefined,
  out: { adds: MapStateEntry[]; deletes: PolicyKey[] },
): void {
  if (before === after) return;
  if (after !== undefined) {
    for (const [n, e] of after) {
      const old = before?.get(n);
      if (old === undefined || !sameEntry(old.entry, e.entry)) out.adds.push({ key: { ...e.l4, identity }, entry: e.entry });
    }
  }
  if (before !== undefined) {
    for (const [n, e] of before) if (after === undefined || !after.has(n)) out.deletes.push({ ...e.l4, identity });
  }
}

/** The changes that turn the map state of snapshot `before` (none: empty) into that of `after`. */
export function diffSnapshots(before: MapStateSnapshot | undefined, after: MapStateSnapshot): MapStateChanges {
  const out = { adds: [] as MapStateEntry[], deletes: [] as PolicyKey[] };
  diffTemplates(0, before?.any, after.any, out);
  for (const [id, t] of after.partitions) diffTemplates(id, before?.partitions.get(id), t, out);
  if (before !== undefined) {
    for (const [id, t] of before.partitions) if (!after.partitions.has(id)) diffTemplates(id, t, undefined, out);
  }
  return out;
}

function allowAll(direction: Direction, origin: RuleOrigin): RawEntry {
  const l4 = { direction, protocol: 0, port: 0, prefixLength: 0 };
  return { l4, n: l4Number(l4), verdict: 'allow', proxyPort: 0, origin };
}

