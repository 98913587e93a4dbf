// From policy map state (keys with verdicts) to the LPM entries the datapath
// reads: port ranges become port/mask prefixes, and a deny that covers a
// narrower allow of the same identity overrides it (the LPM would otherwise
// pick the narrower allow).
import { type PolicyKey, type PolicyVerdictEntry, type TrafficDirection, policyPrefixLength } from './codecs/policy.js';

export interface PolicyRuleEntry extends PolicyVerdictEntry {
  identity: number;
  direction: TrafficDirection;
  protocol?: number;
  /** A single port, or the first port of a range. */
  port?: number;
  /** Last port of the range (inclusive). */
  endPort?: number;
}

export interface PolicyMapEntry {
  key: PolicyKey;
  entry: PolicyVerdictEntry;
}

/** The smallest set of port/prefix pairs that covers [start, end] exactly. */
export function portRangeToPrefixes(start: number, end: number): Array<{ port: number; prefixLength: number }> {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > 0xffff || start > end) {
    throw new Error(`port range ${start}-${end}: expected integers with 0 <= start <= end <= 65535`);
  }
  const out: Array<{ port: number; prefixLength: number }> = [];
  let port = start;
  while (port <= end) {
    let size = 1;
    let bits = 16;
    // Grow the block while it stays aligned and inside the range.
    while (bits > 0 && port % (size * 2) === 0 && port + size * 2 - 1 <= end) {
      size *= 2;
      bits -= 1;
    }
    out.push({ port, prefixLength: bits });
    port += size;
  }
  return out;
}

function expand(rule: PolicyRuleEntry): PolicyKey[] {
  const base = { identity: rule.identity, direction: rule.direction };
  if (rule.protocol === undefined) return [base];
  if (rule.port === undefined || (rule.port === 0 && rule.endPort === undefined)) {
    return [{ ...base, protocol: rule.protocol }];
  }
  const end = rule.endPort ?? rule.port;
  return portRangeToPrefixes(rule.port, end).map((p) =>
    p.prefixLength === 0
      ? { ...base, protocol: rule.protocol }
      : { ...base, protocol: rule.protocol, port: p.port, portPrefixLength: p.prefixLength },
  );
}

function covers(broad: PolicyKey, narrow: PolicyKey): boolean {
  if (broad.identity !== narrow.identity || broad.direction !== narrow.direction) return false;
  const b = policyPrefixLength(broad);
  if (b > policyPrefixLength(narrow)) return false;
  if (b === 8) return true;
  if (broad.protocol !== narrow.protocol) return false;
  if (b === 16) return true;
  const bits = b - 16;
  const mask = (0xffff << (16 - bits)) & 0xffff;
  return ((broad.port ?? 0) & mask) === ((narrow.port ?? 0) & mask);
}

function keyId(k: PolicyKey): string {
  return `${k.identity}/${k.direction}/${k.protocol ?? '*'}/${k.port ?? '*'}/${policyPrefixLength(k)}`;
}

/**
 * The entries to write into one endpoint's cilium_policy map. Identity 0 entries need no resolution against
 * other identities: the datapath looks both up and lets a deny win.
 */
export function policyMapEntries(rules: readonly PolicyRuleEntry[]): PolicyMapEntry[] {
  const byKey = new Map<string, PolicyMapEntry>();
  for (const rule of rules) {
    const verdict: PolicyVerdictEntry = rule.deny ? { deny: true } : rule.proxyPort ? { proxyPort: rule.proxyPort } : {};
    for (const key of expand(rule)) {
      const id = keyId(key);
      const prev = byKey.get(id);
      // Deny wins over allow on the same key; among allows, a proxy redirect is kept.
      if (!prev || verdict.deny || (!prev.entry.deny && verdict.proxyPort)) byKey.set(id, { key, entry: verdict });
    }
  }
  const entries = [...byKey.values()];
  const denies = entries.filter((e) => e.entry.deny);
  return entries.map((e) =>
    !e.entry.deny && denies.some((d) => covers(d.key, e.key)) ? { key: e.key, entry: { deny: true } } : e,
  );
}
