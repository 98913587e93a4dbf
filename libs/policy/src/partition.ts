// The entries of one identity's slice of the map state. Keys for identity X interact only with keys for X
// and for ANY, and the slice depends only on which peer selectors select X, so identities selected by the
// same selectors share one immutable template of entries (keyed by their L4 part).
import type { Direction, L7Parser, RuleOrigin } from './model.js';
import type { PolicyEntry, PolicyKey, Verdict } from './map-state.js';
import { l4Covers, l4Specificity } from './map-state.js';

/** The L4 part of a policy key: everything but the identity. */
export type L4Key = Omit<PolicyKey, 'identity'>;

/** A number unique per L4 key: direction, protocol, port and prefix length packed into 30 bits. */
export function l4Number(k: L4Key): number {
  return ((k.direction === 'egress' ? 1 : 0) << 29) | (k.protocol << 21) | (k.port << 5) | k.prefixLength;
}

export interface RawEntry {
  readonly l4: L4Key;
  readonly n: number;
  readonly verdict: Verdict;
  readonly proxyPort: number;
  readonly l7Parser?: L7Parser;
  /** Explicit auth type of the rule ({@link AuthType}); undefined when the rule does not say. */
  readonly auth?: number;
  readonly origin: RuleOrigin;
}

export interface TemplateEntry {
  readonly l4: L4Key;
  readonly entry: PolicyEntry;
}

/** Entries by {@link l4Number}; never modified once built. */
export type Template = ReadonlyMap<number, TemplateEntry>;

const rank: Readonly<Record<Verdict, number>> = { allow: 1, redirect: 2, deny: 3 };

interface Mutable {
  l4: L4Key;
  verdict: Verdict;
  proxyPort: number;
  l7Parser?: L7Parser;
  /** Explicit auth (from a rule); `inherited` is set from a covering L3 key. */
  auth?: number;
  inherited?: number;
  origins: RuleOrigin[];
}

/**
 * Builds the entries of one identity slice from the raw entries its rules produce, given the finished ANY
 * template (undefined when building the ANY slice itself):
 * 1. equal keys merge: deny beats redirect beats allow, origins of the winner are kept;
 * 2. an allow lying entirely inside a deny (same or ANY identity, covering L4) is left out;
 * 3. an allow for X on a port where the ANY key already allows (or redirects, for a redirect) is left out,
 *    so X's traffic takes the same path through the proxy (S-5, S-6);
 * 4. a deny for X gets an extra deny key for each more specific ANY allow it covers, because the datapath
 *    would otherwise prefer the ANY allow's longer port prefix (S-8).
 */
export function computeTemplate(raw: readonly RawEntry[], any: Template | undefined): Template {
  const merged = new Map<number, Mutable>();
  for (const r of raw) {
    let cur = merged.get(r.n);
    if (cur === undefined || rank[r.verdict] > rank[cur.verdict]) {
      const auth = cur?.auth;
      cur = {
        l4: r.l4,
        verdict: r.verdict,
        proxyPort: r.proxyPort,
        ...(r.l7Parser !== undefined ? { l7Parser: r.l7Parser } : {}),
        ...(auth !== undefined ? { auth } : {}),
        origins: [r.origin],
      };
      merged.set(r.n, cur);
    } else if (cur.verdict === r.verdict || (cur.verdict === 'redirect' && r.verdict === 'allow')) {
      if (!cur.origins.includes(r.origin)) cur.origins.push(r.origin);
    }
    // Two explicit auth types on one key: the stricter (higher) one wins.
    if (r.auth !== undefined) cur.auth = Math.max(r.auth, cur.auth ?? 0);
  }
  const denies: L4Key[] = [];
  for (const m of merged.values()) if (m.verdict === 'deny') denies.push(m.l4);
  const anyDenies: L4Key[] = [];
  const anyAllows: TemplateEntry[] = [];
  if (any !== undefined) {
    for (const e of any.values()) {
      if (e.entry.verdict === 'deny') anyDenies.push(e.l4);
      else anyAllows.push(e);
    }
  }
  if (denies.length > 0 || anyDenies.length > 0 || any !== undefined) {
    for (const [n, m] of merged) {
      if (m.verdict === 'deny') continue;
      const covered = (d: L4Key) => d.direction === m.l4.direction && l4Covers(d, m.l4);
      if (denies.some(covered) || anyDenies.some(covered)) {
        merged.delete(n);
        continue;
      }
      // The host's own bypass keys (S-17) exist precisely to shadow the ANY redirect.
      if (any !== undefined && m.l4.protocol !== 0 && !m.origins.every((o) => o.kind === 'synthetic')) {
        const wild = any.get(n);
        if (wild !== undefined && (m.verdict === 'allow' || wild.entry.verdict === 'redirect')) merged.delete(n);
      }
    }
  }
  applyAuth(merged, anyAllows, any !== undefined);
  if (any !== undefined && denies.length > 0) {
    for (const d of denies) {
      const dm = merged.get(l4Number(d));
      for (const a of anyAllows) {
        if (a.l4.direction !== d.direction || l4Specificity(a.l4) <= l4Specificity(d) || !l4Covers(d, a.l4)) continue;
        const n = l4Number(a.l4);
        if (merged.get(n)?.verdict === 'deny') continue;
        merged.set(n, { l4: a.l4, verdict: 'deny', proxyPort: 0, origins: dm?.origins ?? [] });
      }
    }
  }
  const out = new Map<number, TemplateEntry>();
  for (const [n, m] of merged) {
    out.set(n, {
      l4: m.l4,
      entry: {
        verdict: m.verdict,
        proxyPort: m.verdict === 'redirect' ? m.proxyPort : 0,
        ...(m.verdict === 'redirect' && m.l7Parser !== undefined ? { l7Parser: m.l7Parser } : {}),
        ...(m.verdict !== 'deny' && (m.auth ?? m.inherited ?? 0) > 0 ? { authType: m.auth ?? m.inherited } : {}),
        origins: m.origins,
      },
    });
  }
  return out;
}

/**
 * S-20: an L4 key without its own auth takes the explicit auth of the L3 key of the same identity, and an
 * identity's L3 key with explicit auth adds its own key on each port the ANY identity allows, so that the
 * identity's auth is not bypassed by the datapath preferring the ANY key's longer port prefix.
 */
function applyAuth(merged: Map<number, Mutable>, anyAllows: readonly TemplateEntry[], specificIdentity: boolean): void {
  for (const direction of ['ingress', 'egress'] as const) {
    const l3 = merged.get(l4Number({ direction, protocol: 0, port: 0, prefixLength: 0 }));
    if (l3 === undefined || l3.verdict === 'deny' || l3.auth === undefined) continue;
    for (const m of merged.values()) {
      if (m !== l3 && m.verdict !== 'deny' && m.l4.direction === direction && m.auth === undefined) m.inherited = l3.auth;
    }
    if (!specificIdentity) continue;
    for (const a of anyAllows) {
      if (a.l4.direction !== direction || a.l4.protocol === 0) continue;
      const n = l4Number(a.l4);
      if (merged.has(n)) continue;
      merged.set(n, {
        l4: a.l4,
        verdict: a.entry.verdict,
        proxyPort: a.entry.proxyPort,
        ...(a.entry.l7Parser !== undefined ? { l7Parser: a.entry.l7Parser } : {}),
        auth: l3.auth,
        origins: [...l3.origins, ...a.entry.origins.filter((o) => !l3.origins.includes(o))],
      });
    }
  }
}

export type { Direction };
