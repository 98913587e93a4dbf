// Policy map state: the entries of an endpoint's BPF policy map, and how deny keys take precedence.
import type { Direction, L7Parser, RuleOrigin } from './model.js';
import { prefixLengthToMask } from './port-range.js';

export const Proto = { any: 0, icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 } as const;

/** One policy map key. identity 0 is every identity; protocol 0 with prefixLength 0 is every port and protocol. */
export interface PolicyKey {
  readonly identity: number;
  readonly direction: Direction;
  readonly protocol: number;
  readonly port: number;
  /** Port prefix length, 0..16: 16 is one port, 0 every port of the protocol. */
  readonly prefixLength: number;
}

export type Verdict = 'allow' | 'deny' | 'redirect';

/** Auth type in the policy map entry (upstream AuthType): 0 none, 1 spire (`required`), 2 always-fail. */
export const AuthType = { none: 0, spire: 1, alwaysFail: 2 } as const;

export interface PolicyEntry {
  readonly verdict: Verdict;
  /** Proxy port for `redirect`, 0 otherwise. */
  readonly proxyPort: number;
  readonly l7Parser?: L7Parser;
  /** Mutual authentication the datapath requires before allowing ({@link AuthType}); absent is none. */
  readonly authType?: number;
  /** The rules that produced this entry (for deny: the denying rules). */
  readonly origins: readonly RuleOrigin[];
}

export interface MapStateEntry {
  readonly key: PolicyKey;
  readonly entry: PolicyEntry;
}

export function policyKeyString(k: PolicyKey): string {
  return `${k.identity}/${k.direction === 'ingress' ? 'in' : 'eg'}/${k.protocol}/${k.port}/${k.prefixLength}`;
}

export function protocolName(p: number): string {
  switch (p) {
    case 0:
      return 'ANY';
    case 1:
      return 'ICMP';
    case 6:
      return 'TCP';
    case 17:
      return 'UDP';
    case 58:
      return 'ICMPv6';
    case 132:
      return 'SCTP';
    default:
      return String(p);
  }
}

/** `(100, TCP/80, ingress)` as in policy-semantics.md; ranges print as port/prefix length. */
export function formatPolicyKey(k: PolicyKey): string {
  const id = k.identity === 0 ? 'ANY' : String(k.identity);
  let l4 = 'ANY';
  if (k.protocol !== 0) {
    const port = k.prefixLength === 0 ? 'ANY' : k.prefixLength === 16 ? String(k.port) : `${k.port}/${k.prefixLength}`;
    l4 = `${protocolName(k.protocol)}/${port}`;
  }
  return `(${id}, ${l4}, ${k.direction})`;
}

/** Port specificity used by the datapath's longest-prefix match: protocol bits then port bits. */
type L4Part = Pick<PolicyKey, 'protocol' | 'port' | 'prefixLength'>;

export function l4Specificity(k: L4Part): number {
  return k.protocol === 0 ? 0 : 8 + k.prefixLength;
}

/** Whether the L4 part of `outer` covers that of `inner` (equal counts as covering). */
export function l4Covers(outer: L4Part, inner: L4Part): boolean {
  if (outer.protocol === 0) return true;
  if (outer.protocol !== inner.protocol || inner.prefixLength < outer.prefixLength) return false;
  const mask = prefixLengthToMask(outer.prefixLength);
  return (inner.port & mask) === (outer.port & mask);
}

export function l4Matches(k: L4Part, protocol: number, port: number): boolean {
  if (k.protocol === 0) return true;
  if (k.protocol !== protocol) return false;
  const mask = prefixLengthToMask(k.prefixLength);
  return (port & mask) === (k.port & mask);
}

/** A read-only view of map state entries, with the datapath's lookup. */
export interface MapStateView extends Iterable<MapStateEntry> {
  readonly size: number;
  get(key: PolicyKey): PolicyEntry | undefined;
}

export class MapState implements MapStateView {
  private readonly entries = new Map<string, MapStateEntry>();

  constructor(entries: Iterable<MapStateEntry> = []) {
    for (const e of entries) this.set(e.key, e.entry);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: PolicyKey): PolicyEntry | undefined {
    return this.entries.get(policyKeyString(key))?.entry;
  }

  set(key: PolicyKey, entry: PolicyEntry): void {
    this.entries.set(policyKeyString(key), { key, entry });
  }

  delete(key: PolicyKey): boolean {
    return this.entries.delete(policyKeyString(key));
  }

  [Symbol.iterator](): Iterator<MapStateEntry> {
    return this.entries.values();
  }
}

export interface LookupResult {
  readonly verdict: Verdict | 'none';
  /** The key that decided; undefined when nothing matched (default deny). */
  readonly match?: MapStateEntry;
}

/**
 * The datapath's decision for one packet: among the keys that match (exact identity or ANY, protocol and
 * port within the key's prefix), any deny wins; otherwise the most specific key by L4 prefix, then by
 * identity. No match is `none` (dropped when the direction is enforced).
 */
export function lookupMapState(
  state: Iterable<MapStateEntry>,
  identity: number,
  direction: Direction,
  protocol: number,
  port: number,
): LookupResult {
  let best: MapStateEntry | undefined;
  let deny: MapStateEntry | undefined;
  for (const e of matchingEntries(state, identity, direction, protocol, port)) {
    const k = e.key;
    if (e.entry.verdict === 'deny') {
      if (deny === undefined || moreSpecific(k, deny.key)) deny = e;
    } else if (best === undefined || moreSpecific(k, best.key)) best = e;
  }
  if (deny !== undefined) return { verdict: 'deny', match: deny };
  if (best !== undefined) return { verdict: best.entry.verdict, match: best };
  return { verdict: 'none' };
}

/** The pure longest-prefix lookup of an LPM datapath without deny precedence, used to check the synthesized deny keys. */
export function lookupMostSpecific(
  state: Iterable<MapStateEntry>,
  identity: number,
  direction: Direction,
  protocol: number,
  port: number,
): LookupResult {
  let best: MapStateEntry | undefined;
  for (const e of matchingEntries(state, identity, direction, protocol, port)) {
    const k = e.key;
    if (
      best === undefined ||
      moreSpecific(k, best.key) ||
      (!moreSpecific(best.key, k) && e.entry.verdict === 'deny')
    ) {
      best = e;
    }
  }
  return best === undefined ? { verdict: 'none' } : { verdict: best.entry.verdict, match: best };
}

/** The entries whose key covers a packet: its direction, its identity or ANY, protocol and port within the key's prefix. */
function* matchingEntries(state: Iterable<MapStateEntry>, identity: number, direction: Direction, protocol: number, port: number): Generator<MapStateEntry> {
  for (const e of state) {
    const k = e.key;
    if (k.direction === direction && (k.identity === 0 || k.identity === identity) && l4Matches(k, protocol, port)) yield e;
  }
}

function moreSpecific(a: PolicyKey, b: PolicyKey): boolean {
  const sa = l4Specificity(a);
  const sb = l4Specificity(b);
  if (sa !== sb) return sa > sb;
  return a.identity !== 0 && b.identity === 0;
}

export interface MapStateChanges {
  /** Entries to write (new keys, or keys whose entry changed). */
  readonly adds: readonly MapStateEntry[];
  /** Keys to delete. */
  readonly deletes: readonly PolicyKey[];
}

export function isEmptyChange(c: MapStateChanges): boolean {
  return c.adds.length === 0 && c.deletes.length === 0;
}
