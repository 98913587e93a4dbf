// The internal policy model every policy kind is translated into: one PolicyRule per ingress/egress section.
import type { LabelSelector, Selector } from './selector.js';

export type Direction = 'ingress' | 'egress';
export type PolicyKind = 'NetworkPolicy' | 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy';
export type L4Protocol = 'TCP' | 'UDP' | 'SCTP' | 'ANY' | 'ICMP' | 'ICMPv6';

/** Where a rule came from, down to the section: `spec.ingress[0]` of CiliumNetworkPolicy prod/web. */
export interface RuleOrigin {
  /** `synthetic` for entries the engine adds itself (allow-all when not enforced, allow-localhost). */
  readonly kind: PolicyKind | 'synthetic';
  readonly namespace?: string;
  readonly name: string;
  readonly path: string;
}

/** One port (or port range, or ICMP type carried in the port field) of a toPorts entry. */
export interface PortProtocol {
  /** A number (0 = every port) or a named port resolved against the endpoint. */
  readonly port: number | string;
  readonly endPort?: number;
  readonly protocol: L4Protocol;
}

export interface HeaderMatch {
  readonly name: string;
  readonly value?: string;
  readonly mismatch?: 'LOG' | 'ADD' | 'DELETE' | 'REPLACE';
}

export interface HttpRule {
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly headers?: readonly string[];
  readonly headerMatches?: readonly HeaderMatch[];
}

export interface KafkaRule {
  readonly role?: 'produce' | 'consume';
  readonly apiKey?: string;
  readonly apiVersion?: string;
  readonly clientID?: string;
  readonly topic?: string;
}

export interface DnsRule {
  readonly matchName?: string;
  readonly matchPattern?: string;
}

export type L7Rules =
  | { readonly type: 'http'; readonly rules: readonly HttpRule[] }
  | { readonly type: 'kafka'; readonly rules: readonly KafkaRule[] }
  | { readonly type: 'dns'; readonly rules: readonly DnsRule[] };

export type L7Parser = L7Rules['type'];

export interface PortRule {
  readonly ports: readonly PortProtocol[];
  readonly l7?: L7Rules;
  /** Path of this entry, e.g. `spec.ingress[0].toPorts[1]`. */
  readonly path: string;
}

/** Mutual authentication a rule requires (upstream `authentication.mode`). */
export type AuthMode = 'disabled' | 'required' | 'test-always-fail';

export interface PolicyRule {
  readonly origin: RuleOrigin;
  /** Which endpoints the rule applies to (the policy's endpointSelector/podSelector, namespace-scoped). */
  readonly subject: LabelSelector;
  readonly direction: Direction;
  readonly deny: boolean;
  /** The peers; `[WildcardSelector]` is every identity, `[]` selects nothing. */
  readonly peers: readonly Selector[];
  /** undefined: every port and protocol. */
  readonly toPorts?: readonly PortRule[];
  /** Explicit mutual-authentication mode of an allow rule. */
  readonly auth?: AuthMode;
  /** Whether the rule turns on default deny for its direction (enableDefaultDeny). */
  readonly defaultDeny: boolean;
}

/** A parsed policy document: all its rules, ready for the repository. */
export interface Policy {
  readonly kind: PolicyKind;
  readonly namespace?: string;
  readonly name: string;
  readonly rules: readonly PolicyRule[];
}

export const SyntheticOrigins = {
  allowAllIngress: { kind: 'synthetic', name: 'allow-all-ingress', path: '' },
  allowAllEgress: { kind: 'synthetic', name: 'allow-all-egress', path: '' },
  allowLocalhostIngress: { kind: 'synthetic', name: 'allow-localhost-ingress', path: '' },
} as const satisfies Record<string, RuleOrigin>;

export function originString(o: RuleOrigin): string {
  if (o.kind === 'synthetic') return o.name;
  const where = o.namespace !== undefined ? `${o.namespace}/${o.name}` : o.name;
  return `${o.kind} ${where} ${o.path}`;
}
