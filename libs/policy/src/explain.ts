// Explanations of verdicts: for a source, a destination and a port, what the source's egress policy and the
// destination's ingress policy decide, and which rules decided it.
import type { Label } from '@cilium-ts/labels';
import { formatLabel, LabelSource, sortLabels } from '@cilium-ts/labels';
import type { Direction, L7Rules, RuleOrigin } from './model.js';
import { originString } from './model.js';
import type { PolicyKey } from './map-state.js';
import { formatPolicyKey, Proto, protocolName } from './map-state.js';
import type { PolicyEngine } from './policy-engine.js';
import type { NamedPort } from './selector-policy.js';
import { reservedIdentityLabels } from '@cilium-ts/labels';

/** One side of a flow: a workload's labels, or an identity the engine knows. */
export type ExplainPeer =
  | { readonly labels: readonly Label[]; readonly namedPorts?: readonly NamedPort[] }
  | { readonly identity: number; readonly namedPorts?: readonly NamedPort[] };

export interface ExplainRequest {
  readonly source: ExplainPeer;
  readonly destination: ExplainPeer;
  readonly port: number;
  /** TCP, UDP, SCTP, ICMP, ICMPv6 or a protocol number. */
  readonly protocol: string | number;
}

export type SideOutcome = 'allowed' | 'redirected' | 'denied' | 'default-deny' | 'not-enforced' | 'not-an-endpoint';

export interface SideExplanation {
  readonly direction: Direction;
  /** Labels of the endpoint whose policy is evaluated (the source for egress, the destination for ingress). */
  readonly endpoint: readonly Label[];
  /** Identity of the other side as the datapath would see it. */
  readonly peerIdentity: number;
  readonly enforced: boolean;
  readonly outcome: SideOutcome;
  readonly allowed: boolean;
  /** The policy map key that decided, if one matched. */
  readonly key?: PolicyKey;
  /** The rules that decided (for denies: the deny rules). */
  readonly rules: readonly RuleOrigin[];
  readonly proxyPort?: number;
  /** L7 rules the proxy applies to this peer on this port. */
  readonly l7?: readonly L7Rules[];
  readonly summary: string;
}

export interface Explanation {
  readonly allowed: boolean;
  readonly protocol: number;
  readonly port: number;
  readonly egress: SideExplanation;
  readonly ingress: SideExplanation;
}

/** Identity used for a peer whose labels have no identity yet. */
export const UnallocatedPeerIdentity = 0xfffffe;

const protocolNumbers: Readonly<Record<string, number>> = { TCP: Proto.tcp, UDP: Proto.udp, SCTP: Proto.sctp, ICMP: Proto.icmp, ICMPV6: Proto.icmpv6 };

export function protocolNumber(p: string | number): number {
  if (typeof p === 'number') return p;
  const n = protocolNumbers[p.toUpperCase()];
  if (n === undefined) throw new Error(`explain: unknown protocol ${JSON.stringify(p)} (want TCP, UDP, SCTP, ICMP or ICMPv6)`);
  return n;
}

function resolve(engine: PolicyEngine, peer: ExplainPeer): { id: number; labels: readonly Label[] } {
  if ('identity' in peer) {
    const labels = engine.selectorCache.labels(peer.identity) ?? reservedIdentityLabels(peer.identity);
    if (labels.length === 0) throw new Error(`explain: identity ${peer.identity} is not known`);
    return { id: peer.identity, labels };
  }
  const labels = sortLabels(peer.labels);
  return { id: engine.identityOf(labels) ?? UnallocatedPeerIdentity, labels };
}

function isExternal(labels: readonly Label[]): boolean {
  return labels.some(
    (l) =>
      l.source === LabelSource.cidr ||
      l.source === LabelSource.fqdn ||
      (l.source === LabelSource.reserved && ['world', 'world-ipv4', 'world-ipv6', 'remote-node', 'kube-apiserver'].includes(l.key)),
  );
}

function describeLabels(labels: readonly Label[]): string {
  return labels.map(formatLabel).join(' ');
}

function side(
  engine: PolicyEngine,
  direction: Direction,
  self: { labels: readonly Label[] },
  selfPorts: readonly NamedPort[],
  peer: { id: number; labels: readonly Label[] },
  protocol: number,
  port: number,
): SideExplanation {
  const base = { direction, endpoint: self.labels, peerIdentity: peer.id };
  if (isExternal(self.labels)) {
    return {
      ...base,
      enforced: false,
      outcome: 'not-an-endpoint',
      allowed: true,
      rules: [],
      summary: `${direction}: not enforced: ${describeLabels(self.labels)} is not a local endpoint`,
    };
  }
  const policy = engine.evaluate(self.labels, [{ id: peer.id, labels: peer.labels }], selfPorts);
  try {
    const enforced = policy.enforcement[direction];
    const r = policy.lookup(peer.id, direction, protocol, port);
    const where = `${direction} of ${describeLabels(self.labels)}`;
    if (r.verdict === 'none' || r.match === undefined) {
      return { ...base, enforced, outcome: 'default-deny', allowed: false, rules: [], summary: `${where}: denied: no rule allowed it: default deny` };
    }
    const key = r.match.key;
    const rules = r.match.entry.origins;
    const by = rules.map(originString).join('; ');
    if (r.verdict === 'deny') {
      return { ...base, enforced, outcome: 'denied', allowed: false, key, rules, summary: `${where}: denied by ${by} (key ${formatPolicyKey(key)})` };
    }
    if (rules.every((o) => o.kind === 'synthetic' && o.name.startsWith('allow-all'))) {
      return { ...base, enforced, outcome: 'not-enforced', allowed: true, key, rules, summary: `${where}: not enforced (no rule selects it in this direction)` };
    }
    if (r.verdict === 'redirect') {
      const l7 = policy.l7
        .filter((p) => p.direction === direction && p.protocol === key.protocol && p.port === key.port && p.prefixLength === key.prefixLength)
        .flatMap((p) => p.perSelector)
        .filter((s) => policy.selects(s.selector, peer.id))
        .map((s) => s.rules);
      return {
        ...base,
        enforced,
        outcome: 'redirected',
        allowed: true,
        key,
        rules,
        proxyPort: r.match.entry.proxyPort,
        l7,
        summary: `${where}: allowed by ${by}, redirected to the ${r.match.entry.l7Parser ?? 'L7'} proxy on port ${r.match.entry.proxyPort} (L7 rules apply)`,
      };
    }
    return { ...base, enforced, outcome: 'allowed', allowed: true, key, rules, summary: `${where}: allowed by ${by} (key ${formatPolicyKey(key)})` };
  } finally {
    policy.release();
  }
}

/** Explains a flow from `source` to `destination` on `port`/`protocol` with the engine's policies. */
export function explain(engine: PolicyEngine, req: ExplainRequest): Explanation {
  const protocol = protocolNumber(req.protocol);
  const src = resolve(engine, req.source);
  const dst = resolve(engine, req.destination);
  const egress = side(engine, 'egress', src, req.source.namedPorts ?? [], dst, protocol, req.port);
  const ingress = side(engine, 'ingress', dst, req.destination.namedPorts ?? [], src, protocol, req.port);
  return { allowed: egress.allowed && ingress.allowed, protocol, port: req.port, egress, ingress };
}

/** A plain-text rendering of an explanation, one line per side and a verdict line. */
export function formatExplanation(e: Explanation): string {
  const lines = [`${protocolName(e.protocol)}/${e.port}`, `  ${e.egress.summary}`, `  ${e.ingress.summary}`];
  for (const s of [e.egress, e.ingress]) {
    for (const l7 of s.l7 ?? []) lines.push(`    ${s.direction} L7 ${l7.type}: ${JSON.stringify(l7.rules)}`);
  }
  lines.push(`verdict: ${e.allowed ? 'ALLOWED' : 'DENIED'}`);
  return lines.join('\n');
}
