// Property test in the spirit of upstream's distillery tests: for random sets of allow and deny rules, the
// computed map state (looked up as the datapath does) agrees with a direct evaluation of the rules.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MapStateEntry } from '../src/index.js';
import { lookupMapState, lookupMostSpecific } from '../src/index.js';
import { fooPolicy } from './scenario-helpers.js';

type Peer = 'foo' | 'bar' | 'blue' | 'any' | 'omitted';
interface GenRule {
  egress: boolean;
  deny: boolean;
  peer: Peer;
  port?: { port: number; endPort?: number; protocol: 'TCP' | 'UDP' | 'ANY' };
  l7: boolean;
}

const ruleArb: fc.Arbitrary<GenRule> = fc
  .record({
    egress: fc.boolean(),
    deny: fc.boolean(),
    peer: fc.constantFrom<Peer>('foo', 'bar', 'blue', 'any', 'omitted'),
    port: fc.option(
      fc.record({
        port: fc.constantFrom(0, 80, 81),
        endPort: fc.option(fc.constantFrom(81, 83), { nil: undefined, freq: 3 }),
        protocol: fc.constantFrom<'TCP' | 'UDP' | 'ANY'>('TCP', 'TCP', 'UDP', 'ANY'),
      }),
      { nil: undefined },
    ),
    l7: fc.boolean(),
  })
  .map((r) => {
    const single = r.port !== undefined && r.port.port !== 0 && r.port.endPort === undefined && r.port.protocol === 'TCP';
    const port = r.port === undefined ? undefined : r.port.port === 0 ? { port: 0, protocol: r.port.protocol } : r.port;
    return { egress: r.egress, deny: r.deny, peer: r.peer, ...(port !== undefined ? { port } : {}), l7: r.l7 && !r.deny && single };
  });

const peerSelector: Record<Exclude<Peer, 'omitted'>, unknown> = {
  foo: { matchLabels: { 'k8s:foo': '' } },
  bar: { matchLabels: { 'k8s:bar': '' } },
  blue: { matchLabels: { 'k8s:blue': '' } },
  any: {},
};

function toSpec(r: GenRule): unknown {
  const section: Record<string, unknown> = {};
  if (r.peer !== 'omitted') section[r.egress ? 'toEndpoints' : 'fromEndpoints'] = [peerSelector[r.peer]];
  if (r.port !== undefined) {
    const port: Record<string, unknown> = { port: String(r.port.port), protocol: r.port.protocol };
    if (r.port.endPort !== undefined) port.endPort = r.port.endPort;
    section.toPorts = [{ ports: [port], ...(r.l7 ? { rules: { http: [{ method: 'GET' }] } } : {}) }];
  }
  const field = `${r.egress ? 'egress' : 'ingress'}${r.deny ? 'Deny' : ''}`;
  return { endpointSelector: { matchLabels: { 'k8s:foo': '' } }, [field]: [section] };
}

function peerMatches(r: GenRule, id: number): boolean {
  switch (r.peer) {
    case 'foo':
      return id === 100;
    case 'bar':
      return id === 200;
    case 'blue':
      return id === 100 || id === 200;
    case 'any':
      return true;
    case 'omitted':
      // Neither L3 nor L4: the section selects nothing (S-2).
      return r.port !== undefined;
  }
}

function portMatches(r: GenRule, proto: number, port: number): boolean {
  if (r.port === undefined) return true;
  const protos = r.port.protocol === 'ANY' ? [6, 17, 132] : [r.port.protocol === 'TCP' ? 6 : 17];
  if (!protos.includes(proto)) return false;
  if (r.port.port === 0) return true;
  return port >= r.port.port && port <= (r.port.endPort ?? r.port.port);
}

/**
 * The rules read directly: a direction without rules is open; deny wins, then any allow; through the proxy
 * if any matching allow has L7.
 */
function naive(all: readonly GenRule[], egress: boolean, id: number, proto: number, port: number): string {
  const rules = all.filter((r) => r.egress === egress);
  if (rules.length === 0) return 'allow';
  const matching = rules.filter((r) => peerMatches(r, id) && portMatches(r, proto, port));
  if (matching.some((r) => r.deny)) return 'deny';
  if (matching.length === 0) return 'none';
  return matching.some((r) => r.l7) ? 'redirect' : 'allow';
}

const probes = [false, true].flatMap((egress) =>
  [100, 200, 2, 4242].flatMap((id) =>
    [6, 17, 132].flatMap((proto) => [79, 80, 81, 82, 83, 84].map((port) => ({ egress, id, proto, port }))),
  ),
);

describe('map state agrees with the rules', () => {
  it('for random allow/deny/L7 rule sets, on every identity and port probe', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 8 }), (rules) => {
        const { policy } = fooPolicy(rules.map(toSpec));
        const state: MapStateEntry[] = [...policy.mapState];
        for (const p of probes) {
          const dir = p.egress ? 'egress' : 'ingress';
          const want = naive(rules, p.egress, p.id, p.proto, p.port);
          const got = lookupMapState(state, p.id, dir, p.proto, p.port).verdict;
          // The extra deny keys make a pure longest-prefix datapath give the same answer.
          const lpm = lookupMostSpecific(state, p.id, dir, p.proto, p.port).verdict;
          expect({ probe: p, got, lpm }).toEqual({ probe: p, got: want, lpm: want });
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('the result does not depend on rule order', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 5 }), (rules) => {
        const a = [...fooPolicy(rules.map(toSpec)).policy.mapState].map((e) => `${JSON.stringify(e.key)} ${e.entry.verdict}`).sort();
        const b = [...fooPolicy([...rules].reverse().map(toSpec)).policy.mapState].map((e) => `${JSON.stringify(e.key)} ${e.entry.verdict}`).sort();
        expect(b).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });
});
