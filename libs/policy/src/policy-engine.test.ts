import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MapStateChanges } from './index.js';
import type { Label } from '@cilium-ts/labels';
import { formatPolicyKey, MapState, PolicyEngine } from './index.js';
import { labelsFromK8sPod } from '@cilium-ts/labels';

const policy = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {role: frontend}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {role: attacker}}]
`;
const pod = (labels: Record<string, string>, ns = 'prod'): Label[] => labelsFromK8sPod(ns, labels);
const show = (c: MapStateChanges | undefined) =>
  c === undefined ? undefined : { adds: c.adds.map((e) => `${formatPolicyKey(e.key)} ${e.entry.verdict}`).sort(), deletes: c.deletes.map(formatPolicyKey).sort() };

function setup() {
  const engine = new PolicyEngine({ allowLocalhost: 'policy' });
  expect(engine.repository.apply(policy).ok).toBe(true);
  engine.upsertEndpoint(1, pod({ app: 'web' }));
  engine.upsertEndpoint(2, pod({ app: 'web' }));
  engine.upsertEndpoint(3, pod({ app: 'db' }));
  return engine;
}

describe('incremental identity changes', () => {
  it('a new selected identity adds only its entries, for every affected endpoint', () => {
    const engine = setup();
    const changes = engine.updateIdentities([{ id: 300, labels: pod({ role: 'frontend' }) }]);
    expect([...changes.keys()].sort()).toEqual([1, 2]);
    expect(show(changes.get(1))).toEqual({ adds: ['(300, TCP/80, ingress) allow'], deletes: [] });
  });

  it('an identity nobody selects changes nothing', () => {
    const engine = setup();
    expect(engine.updateIdentities([{ id: 301, labels: pod({ role: 'backend' }) }]).size).toBe(0);
    expect(engine.updateIdentities([{ id: 302, labels: pod({ role: 'frontend' }, 'other') }]).size).toBe(0);
  });

  it('removing the identity deletes its entries', () => {
    const engine = setup();
    engine.updateIdentities([{ id: 300, labels: pod({ role: 'frontend' }) }]);
    expect(show(engine.updateIdentities([], [300]).get(1))).toEqual({ adds: [], deletes: ['(300, TCP/80, ingress)'] });
    expect(engine.endpointPolicy(1)?.mapState.size).toBe(1);
  });

  it('a denied identity gets only its deny; a relabelled identity moves from deny to allow', () => {
    const engine = setup();
    const c = engine.updateIdentities([{ id: 303, labels: pod({ role: 'attacker' }) }]);
    expect(show(c.get(1))).toEqual({ adds: ['(303, ANY, ingress) deny'], deletes: [] });
    const both = engine.updateIdentities([{ id: 303, labels: pod({ role: 'frontend' }) }]);
    expect(show(both.get(1))).toEqual({ adds: ['(303, TCP/80, ingress) allow'], deletes: ['(303, ANY, ingress)'] });
  });

  it('applied to the previous map state, the changes give the same state as a full computation', () => {
    const labelsArb = fc.record({
      role: fc.constantFrom('frontend', 'attacker', 'backend'),
      ns: fc.constantFrom('prod', 'dev'),
    });
    const opArb = fc.oneof(
      fc.record({ add: fc.integer({ min: 300, max: 310 }), labels: labelsArb }),
      fc.record({ remove: fc.integer({ min: 300, max: 310 }) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), (ops) => {
        const engine = setup();
        const state = new MapState(engine.endpointPolicy(1)!.mapState);
        const known = new Map<number, Label[]>();
        for (const op of ops) {
          const c =
            'add' in op
              ? engine.updateIdentities([{ id: op.add, labels: pod({ role: op.labels.role }, op.labels.ns) }])
              : engine.updateIdentities([], [op.remove]);
          if ('add' in op) known.set(op.add, pod({ role: op.labels.role }, op.labels.ns));
          else known.delete(op.remove);
          const change = c.get(1);
          for (const k of change?.deletes ?? []) state.delete(k);
          for (const e of change?.adds ?? []) state.set(e.key, e.entry);
        }
        const fresh = new PolicyEngine({ allowLocalhost: 'policy' });
        fresh.repository.apply(policy);
        fresh.updateIdentities([...known].map(([id, labels]) => ({ id, labels })));
        const want = fresh.upsertEndpoint(1, pod({ app: 'web' })).policy.mapState;
        const key = (s: Iterable<{ key: object; entry: { verdict: string } }>) => [...s].map((e) => `${JSON.stringify(e.key)} ${e.entry.verdict}`).sort();
        expect(key(state)).toEqual(key(want));
      }),
      { numRuns: 150 },
    );
  });
});

describe('policy changes', () => {
  it('regenerates and reports the difference per endpoint; a rejected policy changes nothing', () => {
    const engine = setup();
    engine.updateIdentities([{ id: 300, labels: pod({ role: 'frontend' }) }]);
    const revision = engine.repository.revision;
    const bad = engine.applyPolicies(policy.replace('"80"', '"eighty!"'));
    expect(bad.result.ok).toBe(false);
    expect(bad.changes.size).toBe(0);
    expect(engine.repository.revision).toBe(revision);
    const good = engine.applyPolicies(policy.replace('"80"', '"8080"'));
    expect(good.result.ok).toBe(true);
    expect(engine.repository.revision).toBe(revision + 1);
    expect(show(good.changes.get(1))).toEqual({ adds: ['(300, TCP/8080, ingress) allow'], deletes: ['(300, TCP/80, ingress)'] });
    expect(good.changes.has(3)).toBe(false);
  });

  it('deleting the policy lifts enforcement', () => {
    const engine = setup();
    expect(engine.repository.delete({ namespace: 'prod', name: 'web' })).toBe(1);
    const changes = engine.regenerate();
    expect(show(changes.get(1))).toEqual({ adds: ['(ANY, ANY, ingress) allow'], deletes: [] });
    expect(engine.endpointPolicy(1)?.enforcement).toEqual({ ingress: false, egress: false });
  });

  it('reports policy changes made directly in the repository with the next identity update', () => {
    const engine = setup();
    engine.updateIdentities([{ id: 300, labels: pod({ role: 'frontend' }) }]);
    expect(engine.repository.apply(policy.replace('"80"', '"443"')).ok).toBe(true);
    const c = engine.updateIdentities([{ id: 301, labels: pod({ role: 'frontend' }) }]);
    expect(show(c.get(1))).toEqual({
      adds: ['(300, TCP/443, ingress) allow', '(301, TCP/443, ingress) allow'],
      deletes: ['(300, TCP/80, ingress)'],
    });
    expect(engine.takeChanges().size).toBe(0);
  });

  it('takeChanges reports a direct repository change once', () => {
    const engine = setup();
    engine.repository.delete({ kind: 'CiliumNetworkPolicy', namespace: 'prod', name: 'web' });
    expect([...engine.takeChanges().keys()].sort()).toEqual([1, 2]);
    expect(engine.takeChanges().size).toBe(0);
  });

  it('allocates CIDR identities for prefixes in policy and releases them with the policy', () => {
    const engine = setup();
    const cidr = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: out, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress: [{toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]}]
`;
    const applied = engine.applyPolicies(cidr);
    const id = engine.cidrIdentity('10.0.0.0/8')!;
    expect(id).toBe((1 << 24) | 1);
    expect(engine.cidrIdentity('10.1.0.0/16')).toBe((1 << 24) | 2);
    expect(show(applied.changes.get(1))?.adds).toContain(`(${id}, ANY, egress) allow`);
    engine.repository.delete({ namespace: 'prod', name: 'out' });
    const changes = engine.takeChanges();
    expect(show(changes.get(1))?.deletes).toContain(`(${id}, ANY, egress)`);
    expect(engine.cidrIdentity('10.0.0.0/8')).toBeUndefined();
    expect(engine.selectorCache.labels(id)).toBeUndefined();
  });

  it('resolves egress named ports against the node-wide named ports', () => {
    const engine = setup();
    engine.applyPolicies(`apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: named, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: web}}
  egress: [{toEntities: [world], toPorts: [{ports: [{port: metrics}]}]}]
`);
    const c = engine.setNodeNamedPorts([{ name: 'metrics', port: 9090, protocol: 'TCP' }]);
    expect(show(c.get(1))).toEqual({ adds: ['(2, TCP/9090, egress) allow'], deletes: [] });
  });

  it('endpoints with the same labels share one computation', () => {
    const engine = setup();
    expect(engine.endpointPolicy(1)?.mapState).toBe(engine.endpointPolicy(2)?.mapState);
    engine.removeEndpoint(2);
    expect(engine.endpointIds().sort()).toEqual([1, 3]);
  });
});
