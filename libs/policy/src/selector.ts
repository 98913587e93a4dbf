// Peer and subject selectors in one canonical form, so equal selectors share one entry in the selector cache.
import type { Label } from '@cilium-ts/labels';
import { LabelSource, parseLabel } from '@cilium-ts/labels';
import type { Prefix } from './cidr.js';
import { parsePrefix, prefixContains } from './cidr.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelRequirement {
  readonly source: string;
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** Selects identities by labels; no requirements selects every identity (the wildcard). */
export interface LabelSelector {
  readonly type: 'labels';
  readonly requirements: readonly LabelRequirement[];
}

/** Selects CIDR identities inside `cidr` and outside every `except` (and world for /0). */
export interface CidrSelector {
  readonly type: 'cidr';
  readonly cidr: string;
  readonly except: readonly string[];
}

/** Selects identities the DNS proxy learned for a name or pattern (labelled `fqdn:<name or pattern>`). */
export interface FqdnSelector {
  readonly type: 'fqdn';
  readonly matchName?: string;
  readonly matchPattern?: string;
}

export type Selector = LabelSelector | CidrSelector | FqdnSelector;

export const WildcardSelector: LabelSelector = { type: 'labels', requirements: [] };

export function isWildcardSelector(s: Selector): boolean {
  return s.type === 'labels' && s.requirements.length === 0;
}

/** A requirement key as written in a policy: `k8s:app`, `reserved:host` or `app` (source any). */
export function parseSelectorKey(key: string): { source: string; key: string } {
  const l = parseLabel(key, LabelSource.any);
  return { source: l.source, key: l.key };
}

export function requirement(
  key: string,
  operator: SelectorOperator,
  values: readonly string[] = [],
): LabelRequirement {
  const k = parseSelectorKey(key);
  return { source: k.source, key: k.key, operator, values: [...values].sort() };
}

export function labelSelector(requirements: readonly LabelRequirement[]): LabelSelector {
  const sorted = [...requirements].sort((a, b) => {
    const x = requirementString(a);
    const y = requirementString(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const deduped = sorted.filter((r, i) => i === 0 || requirementString(r) !== requirementString(sorted[i - 1]!));
  return { type: 'labels', requirements: deduped };
}

/** `matchLabels` as a selector: one `In` requirement per label. */
export function matchLabelsSelector(matchLabels: Readonly<Record<string, string>>): LabelSelector {
  return labelSelector(Object.entries(matchLabels).map(([k, v]) => requirement(k, 'In', [v])));
}

function requirementString(r: LabelRequirement): string {
  const key = `${r.source}:${r.key}`;
  switch (r.operator) {
    case 'In':
      return r.values.length === 1 ? `${key}=${r.values[0]}` : `${key} in (${r.values.join(',')})`;
    case 'NotIn':
      return `${key} notin (${r.values.join(',')})`;
    case 'Exists':
      return key;
    case 'DoesNotExist':
      return `!${key}`;
  }
}

const keyCache = new WeakMap<Selector, string>();

/** Canonical text of a selector; the identity of a selector in the cache and in explanations. */
export function selectorKey(s: Selector): string {
  let k = keyCache.get(s);
  if (k === undefined) keyCache.set(s, (k = computeSelectorKey(s)));
  return k;
}

function computeSelectorKey(s: Selector): string {
  switch (s.type) {
    case 'labels':
      return s.requirements.length === 0 ? '&LabelSelector{}' : s.requirements.map(requirementString).join(', ');
    case 'cidr':
      return s.except.length === 0 ? `cidr:${s.cidr}` : `cidr:${s.cidr} except ${s.except.join(',')}`;
    case 'fqdn':
      return s.matchName !== undefined ? `fqdn:${s.matchName}` : `fqdn:${s.matchPattern ?? ''}`;
  }
}

/** Labels indexed by key, so that matching a selector costs a few map lookups. */
export class LabelIndex {
  private readonly byKey = new Map<string, Label[]>();
  constructor(readonly labels: readonly Label[]) {
    for (const l of labels) {
      const list = this.byKey.get(l.key);
      if (list === undefined) this.byKey.set(l.key, [l]);
      else list.push(l);
    }
  }

  get(source: string, key: string): Label[] {
    const list = this.byKey.get(key);
    if (list === undefined) return [];
    return source === LabelSource.any ? list : list.filter((l) => l.source === source);
  }

  has(source: string, key: string, value?: string): boolean {
    return this.get(source, key).some((l) => value === undefined || l.value === value);
  }
}

export function matchesRequirement(r: LabelRequirement, labels: LabelIndex): boolean {
  const found = labels.get(r.source, r.key);
  switch (r.operator) {
    case 'In':
      return found.some((l) => r.values.includes(l.value));
    case 'NotIn':
      return !found.some((l) => r.values.includes(l.value));
    case 'Exists':
      return found.length > 0;
    case 'DoesNotExist':
      return found.length === 0;
  }
}

export interface SelectorContext {
  /** In a dual-stack cluster 0.0.0.0/0 means world-ipv4, not world (S-11). */
  readonly dualStack?: boolean;
}

/** Whether `s` selects an identity with these labels. */
export function selectorMatches(s: Selector, labels: LabelIndex, ctx: SelectorContext = {}): boolean {
  switch (s.type) {
    case 'labels':
      return s.requirements.every((r) => matchesRequirement(r, labels));
    case 'fqdn':
      return labels.has(LabelSource.fqdn, selectorKey(s).slice('fqdn:'.length));
    case 'cidr':
      return cidrSelectorMatches(s, labels, ctx);
  }
}

const prefixCache = new Map<string, Prefix | undefined>();
function cachedPrefix(text: string): Prefix | undefined {
  let p = prefixCache.get(text);
  if (p === undefined && !prefixCache.has(text)) {
    // Upstream writes IPv6 CIDR labels with '-' for ':' because ':' separates the label source.
    p = parsePrefix(text.includes('.') ? text : text.replaceAll('-', ':'));
    prefixCache.set(text, p);
  }
  return p;
}

function cidrSelectorMatches(s: CidrSelector, labels: LabelIndex, ctx: SelectorContext): boolean {
  const outer = cachedPrefix(s.cidr);
  if (outer === undefined) return false;
  if (outer.length === 0) {
    // S-11: the all-addresses prefix also selects the world identity of its family.
    const worldKey = ctx.dualStack === true ? (outer.family === 4 ? 'world-ipv4' : 'world-ipv6') : 'world';
    if (ctx.dualStack === true || outer.family === 4) {
      if (labels.has(LabelSource.reserved, worldKey)) return true;
    }
  }
  for (const l of labels.labels) {
    if (l.source !== LabelSource.cidr) continue;
    const inner = cachedPrefix(l.key);
    if (inner === undefined || !prefixContains(outer, inner)) continue;
    if (s.except.some((e) => {
      const ex = cachedPrefix(e);
      return ex !== undefined && prefixContains(ex, inner);
    })) continue;
    return true;
  }
  return false;
}
