// The 2^8 product of upstream's Test_MergeRules: 8 rule slots (5 allows, 3 denies) each present or absent.
// For every combination the map state has only the three keys of the upstream table and agrees with a
// direct reading of the rules, under both datapath lookups.
import { describe, expect, it } from 'vitest';
import type { MapStateEntry } from '../src/index.js';
import { formatPolicyKey, lookupMapState, lookupMostSpecific } from '../src/index.js';
import { BAR, FOO, foo, fooPolicy } from './scenario-helpers.js';

interface Slot {
  name: string;
  deny: boolean;
  l3: boolean;
  l4: boolean;
  l7: boolean;
}

const slots: Slot[] = [
  { name: 'allow L3 foo', deny: false, l3: true, l4: false, l7: false },
  { name: 'allow L4 80', deny: false, l3: false, l4: true, l7: false },
  { name: 'allow L3L4 foo:80', deny: false, l3: true, l4: true, l7: false },
  { name: 'allow L4L7 80+HTTP', deny: false, l3: false, l4: true, l7: true },
  { name: 'allow L3L4L7 foo:80+HTTP', deny: false, l3: true, l4: true, l7: true },
  { name: 'deny L3 foo', deny: true, l3: true, l4: false, l7: false },
  { name: 'deny L4 80', deny: true, l3: false, l4: true, l7: false },
  { name: 'deny L3L4 foo:80', deny: true, l3: true, l4: true, l7: false },
];

function spec(s: Slot): unknown {
  const section: Record<string, unknown> = {};
  if (s.l3) section.fromEndpoints = [foo];
  if (s.l4) section.toPorts = [{ ports: [{ port: '80', protocol: 'TCP' }], ...(s.l7 ? { rules: { http: [{ method: 'GET', path: '/' }] } } : {}) }];
  return { endpointSelector: foo, [s.deny ? 'ingressDeny' : 'ingress']: [section] };
}

function naive(present: Slot[], id: number, port: number): string {
  const matching = present.filter((s) => (!s.l3 || id === FOO) && (!s.l4 || port === 80));
  if (matching.some((s) => s.deny)) return 'deny';
  if (matching.length === 0) return 'none';
  return matching.some((s) => s.l7) ? 'redirect' : 'allow';
}

const allowedKeys = new Set(['(100, TCP/80, ingress)', '(ANY, TCP/80, ingress)', '(100, ANY, ingress)', '(ANY, ANY, egress)']);

describe('Test_MergeRules product', () => {
  it('holds for all 256 combinations', () => {
    for (let mask = 0; mask < 256; mask++) {
      const present = slots.filter((_, i) => (mask & (1 << i)) !== 0);
      const { policy } = fooPolicy(present.map(spec));
      const state: MapStateEntry[] = [...policy.mapState];
      if (mask !== 0) for (const e of state) expect({ mask, key: formatPolicyKey(e.key) }).toSatisfy((x: { key: string }) => allowedKeys.has(x.key));
      for (const id of [FOO, BAR]) {
        for (const port of [80, 81]) {
          const want = present.length === 0 ? 'allow' : naive(present, id, port);
          expect({ mask, id, port, v: lookupMapState(state, id, 'ingress', 6, port).verdict }).toEqual({ mask, id, port, v: want });
          expect({ mask, id, port, v: lookupMostSpecific(state, id, 'ingress', 6, port).verdict }).toEqual({ mask, id, port, v: want });
        }
      }
    }
  });

  it('row: L3 deny with L4 allow gives the dependent deny key', () => {
    const { policy } = fooPolicy([spec(slots[5]!), spec(slots[1]!)]);
    expect([...policy.mapState].map((e) => `${formatPolicyKey(e.key)} ${e.entry.verdict}`).sort()).toEqual([
      '(100, ANY, ingress) deny',
      '(100, TCP/80, ingress) deny',
      '(ANY, ANY, egress) allow',
      '(ANY, TCP/80, ingress) allow',
    ]);
  });

  it('row: L4 deny with L3 allow keeps both keys', () => {
    const { policy } = fooPolicy([spec(slots[6]!), spec(slots[0]!)]);
    expect([...policy.mapState].map((e) => `${formatPolicyKey(e.key)} ${e.entry.verdict}`).sort()).toEqual([
      '(100, ANY, ingress) allow',
      '(ANY, ANY, egress) allow',
      '(ANY, TCP/80, ingress) deny',
    ]);
  });
});
