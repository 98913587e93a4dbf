// The entries of one identity's slice of the map state. Keys for identity X interact only with keys for X
// and for ANY, so the map state is computed (and recomputed on identity changes) one identity at a time.
import type { L7Parser, RuleOrigin } from './model.js';
import type { MapStateEntry, PolicyKey, Verdict } from './map-state.js';
import { l4Covers, l4Specificity, policyKeyString } from './map-state.js';

export interface RawEntry {
  readonly key: PolicyKey;
  readonly verdict: Verdict;
  readonly proxyPort: number;
  readonly l7Parser?: L7Parser;
  readonly origin: RuleOrigin;
}

export type Partition = Map<string, MapStateEntry>;

const rank: Readonly<Record<Verdict, number>> = { allow: 1, redirect: 2, deny: 3 };

interface Mutable {
  key: PolicyKey;
  verdict: Verdict;
  proxyPort: number;
  l7Parser?: L7Parser;
  origins: RuleOrigin[];
}

/**
 * Builds the entries for `identity` from the raw entries the rules produce for it, given the finished
 * ANY partition (undefined when computing the ANY partition itself):
 * 1. equal keys merge: deny beats redirect beats allow, origins of the winner are kept;
 * 2. an allow lying entirely inside a deny (same or ANY identity, covering L4) is left out;
 * 3. an allow for X on a port where the ANY key already allows (or redirects, for a redirect) is left out,
 *    so X's traffic takes the same path through the proxy (S-5, S-6);
 * 4. a deny for X gets an extra deny key for each more specific ANY allow it covers, because the datapath
 *    would otherwise prefer the ANY allow's longer port prefix (S-8).
 */
export function computePartition(identity: number, raw: readonly RawEntry[], any: Partition | undefined): Partition {
  const merged = new Map<string, Mutable>();
  for (const r of raw) {
    const k = policyKeyString(r.key);
    const cur = merged.get(k);
    if (cur === undefined || rank[r.verdict] > rank[cur.verdict]) {
      merged.set(k, {
        key: r.key,
        verdict: r.verdict,
        proxyPort: r.proxyPort,
        ...(r.l7Parser !== undefined ? { l7Parser: r.l7Parser } : {}),
        origins: [r.origin],
      });
    } else if (cur.verdict === r.verdict || (cur.verdict === 'redirect' && r.verdict === 'allow')) {
      if (!cur.origins.includes(r.origin)) cur.origins.push(r.origin);
    }
  }
  const denies: PolicyKey[] = [];
  for (const m of merged.values()) if (m.verdict === 'deny') denies.push(m.key);
  const anyDenies: PolicyKey[] = [];
  const anyAllows: MapStateEntry[] = [];
  if (any !== undefined) {
    for (const e of any.values()) {
      if (e.entry.verdict === 'deny') anyDenies.push(e.key);
      else anyAllows.push(e);
    }
  }
  for (const [k, m] of merged) {
    if (m.verdict === 'deny') continue;
    const covered = (d: PolicyKey) => d !== m.key && d.direction === m.key.direction && l4Covers(d, m.key);
    if (denies.some(covered) || anyDenies.some(covered)) {
      merged.delete(k);
      continue;
    }
    // The host's own bypass keys (S-17) exist precisely to shadow the ANY redirect.
    if (any !== undefined && m.key.protocol !== 0 && !m.origins.every((o) => o.kind === 'synthetic')) {
      const wild = any.get(policyKeyString({ ...m.key, identity: 0 }));
      if (wild !== undefined && (m.verdict === 'allow' || wild.entry.verdict === 'redirect')) merged.delete(k);
    }
  }
  if (any !== undefined && denies.length > 0) {
    for (const d of denies) {
      const dm = merged.get(policyKeyString(d));
      for (const a of anyAllows) {
        if (a.key.direction !== d.direction || l4Specificity(a.key) <= l4Specificity(d) || !l4Covers(d, a.key)) continue;
        const key: PolicyKey = { ...a.key, identity };
        const ks = policyKeyString(key);
        if (merged.get(ks)?.verdict === 'deny') continue;
        merged.set(ks, { key, verdict: 'deny', proxyPort: 0, origins: dm?.origins ?? [] });
      }
    }
  }
  const out: Partition = new Map();
  for (const [k, m] of merged) {
    out.set(k, {
      key: m.key,
      entry: {
        verdict: m.verdict,
        proxyPort: m.verdict === 'redirect' ? m.proxyPort : 0,
        ...(m.verdict === 'redirect' && m.l7Parser !== undefined ? { l7Parser: m.l7Parser } : {}),
        origins: m.origins,
      },
    });
  }
  return out;
}
