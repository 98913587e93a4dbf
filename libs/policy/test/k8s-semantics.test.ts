// Kubernetes NetworkPolicy semantics and CiliumNetworkPolicy namespace scoping, through the whole engine.
import { describe, expect, it } from 'vitest';
import { PolicyEngine } from '../src/index.js';
import { labelsFromK8sPod } from '@cilium-ts/labels';

// Namespaces x and y, pods a and b in each; x/a is the endpoint under test.
const pods = {
  xa: { id: 1000, labels: labelsFromK8sPod('x', { app: 'a' }, { team: 'x' }) },
  xb: { id: 1001, labels: labelsFromK8sPod('x', { app: 'b' }, { team: 'x' }) },
  ya: { id: 1002, labels: labelsFromK8sPod('y', { app: 'a' }, { team: 'y' }) },
  yb: { id: 1003, labels: labelsFromK8sPod('y', { app: 'b' }, { team: 'y' }) },
};
const WORLD = 2;
const HOST = 1;

function setup(yaml: string, namedPorts: { name: string; port: number; protocol: 'TCP' }[] = []) {
  const engine = new PolicyEngine({ allowLocalhost: 'policy' });
  engine.updateIdentities(Object.values(pods));
  const r = engine.repository.apply(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r));
  const { policy } = engine.upsertEndpoint(1, pods.xa.labels, namedPorts);
  const ingress = (id: number, port = 80, proto = 6) => policy.lookup(id, 'ingress', proto, port).verdict;
  const egress = (id: number, port = 80, proto = 6) => policy.lookup(id, 'egress', proto, port).verdict;
  return { engine, policy, ingress, egress };
}

const np = (spec: string) =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: x}\nspec:\n  podSelector: {}\n${spec}`;

describe('NetworkPolicy', () => {
  it('an empty podSelector in a peer means every pod of the policy namespace', () => {
    const { ingress } = setup(np('  ingress: [{from: [{podSelector: {}}]}]'));
    expect([ingress(pods.xb.id), ingress(pods.ya.id), ingress(WORLD)]).toEqual(['allow', 'none', 'none']);
  });

  it('omitted from and empty from both allow every source', () => {
    for (const rule of ['[{}]', '[{from: []}]', '[{ports: [{port: 80}]}]']) {
      const { ingress } = setup(np(`  ingress: ${rule}`));
      expect([ingress(pods.xb.id), ingress(pods.yb.id), ingress(WORLD), ingress(HOST)]).toEqual(['allow', 'allow', 'allow', 'allow']);
    }
  });

  it('the subject podSelector scopes to the policy namespace', () => {
    const { engine } = setup(np('  ingress: []\n  policyTypes: [Ingress]'));
    const other = engine.upsertEndpoint(2, pods.ya.labels).policy;
    expect(other.enforcement.ingress).toBe(false);
    expect(engine.endpointPolicy(1)?.enforcement.ingress).toBe(true);
  });

  it('policyTypes [Ingress] without rules denies all ingress and leaves egress open', () => {
    const { ingress, egress, policy } = setup(np('  policyTypes: [Ingress]'));
    expect(policy.enforcement).toEqual({ ingress: true, egress: false });
    expect([ingress(pods.xb.id), egress(pods.xb.id)]).toEqual(['none', 'allow']);
  });

  it('namespaceSelector and podSelector in one peer must both match', () => {
    const { ingress } = setup(np('  ingress: [{from: [{namespaceSelector: {matchLabels: {team: y}}, podSelector: {matchLabels: {app: b}}}]}]'));
    expect([ingress(pods.yb.id), ingress(pods.ya.id), ingress(pods.xb.id)]).toEqual(['allow', 'none', 'none']);
  });

  it('namespaceSelector and podSelector in two peers are a union', () => {
    const { ingress } = setup(np('  ingress: [{from: [{namespaceSelector: {matchLabels: {team: y}}}, {podSelector: {matchLabels: {app: b}}}]}]'));
    expect([ingress(pods.yb.id), ingress(pods.ya.id), ingress(pods.xb.id), ingress(WORLD)]).toEqual(['allow', 'allow', 'allow', 'none']);
  });

  it('an empty namespaceSelector selects pods of every namespace, not world or host', () => {
    const { ingress } = setup(np('  ingress: [{from: [{namespaceSelector: {}}]}]'));
    expect([ingress(pods.yb.id), ingress(pods.xb.id), ingress(WORLD), ingress(HOST)]).toEqual(['allow', 'allow', 'none', 'none']);
  });

  it('matches kubernetes.io/metadata.name on the pod namespace', () => {
    const { ingress } = setup(np('  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]'));
    expect([ingress(pods.ya.id), ingress(pods.xb.id)]).toEqual(['allow', 'none']);
  });

  it('ipBlock with except', () => {
    const { engine, egress } = setup(np('  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]'));
    expect(egress(engine.cidrIdentity('10.0.0.0/8')!)).toBe('allow');
    expect(egress(engine.cidrIdentity('10.1.0.0/16')!)).toBe('none');
    expect(egress(WORLD)).toBe('none');
  });

  it('named ports resolve against the endpoint', () => {
    const { policy, ingress } = setup(np('  ingress: [{ports: [{port: http}]}]'), [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(ingress(pods.yb.id, 8080)).toBe('allow');
    expect(ingress(pods.yb.id, 80)).toBe('none');
    expect(policy.mapState.get({ identity: 0, direction: 'ingress', protocol: 6, port: 8080, prefixLength: 16 })?.verdict).toBe('allow');
  });

  it('endPort opens a range, protocol defaults to TCP', () => {
    const { ingress } = setup(np('  ingress: [{ports: [{port: 8000, endPort: 8003}]}]'));
    expect([7999, 8000, 8003, 8004].map((p) => ingress(pods.yb.id, p))).toEqual(['none', 'allow', 'allow', 'none']);
    expect(ingress(pods.yb.id, 8000, 17)).toBe('none');
  });

  it('a port without a number allows every port of its protocol', () => {
    const { ingress } = setup(np('  ingress: [{ports: [{protocol: UDP}]}]'));
    expect([ingress(pods.yb.id, 53, 17), ingress(pods.yb.id, 53, 6)]).toEqual(['allow', 'none']);
  });

  it('policyTypes with Egress and no egress rules denies all egress', () => {
    const { policy, egress } = setup(np('  policyTypes: [Ingress, Egress]\n  ingress: [{}]'));
    expect(policy.enforcement).toEqual({ ingress: true, egress: true });
    expect(egress(pods.xb.id)).toBe('none');
  });

  it('egress rules count only when policyTypes includes Egress or is omitted', () => {
    const without = setup(np('  policyTypes: [Ingress]\n  egress: [{to: [{podSelector: {}}]}]'));
    expect(without.policy.enforcement.egress).toBe(false);
    expect(without.egress(pods.yb.id)).toBe('allow');
    const omitted = setup(np('  egress: [{to: [{podSelector: {}}]}]'));
    expect(omitted.policy.enforcement).toEqual({ ingress: true, egress: true });
    expect([omitted.egress(pods.xb.id), omitted.egress(pods.yb.id)]).toEqual(['allow', 'none']);
  });
});

const cnp = (spec: string, kind = 'CiliumNetworkPolicy', ns = 'namespace: x') =>
  `apiVersion: cilium.io/v2\nkind: ${kind}\nmetadata: {name: c, ${ns}}\nspec:\n  endpointSelector: {}\n${spec}`;

describe('CiliumNetworkPolicy namespace scoping', () => {
  it('fromEndpoints [{}] means every endpoint of the policy namespace', () => {
    const { ingress } = setup(cnp('  ingress: [{fromEndpoints: [{}]}]'));
    expect([ingress(pods.xb.id), ingress(pods.ya.id), ingress(WORLD)]).toEqual(['allow', 'none', 'none']);
  });
  it('a selector naming the namespace label is not scoped', () => {
    const { ingress } = setup(cnp('  ingress: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: y}}]}]'));
    expect([ingress(pods.ya.id), ingress(pods.xb.id)]).toEqual(['allow', 'none']);
  });
  it('reserved selectors are not scoped', () => {
    const { ingress } = setup(cnp('  ingress: [{fromEndpoints: [{matchLabels: {"reserved:host": ""}}]}]'));
    expect(ingress(HOST)).toBe('allow');
  });
  it('namespace-label selectors are not scoped', () => {
    const { ingress } = setup(cnp('  ingress: [{fromEndpoints: [{matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: y}}]}]'));
    expect([ingress(pods.ya.id), ingress(pods.xa.id)]).toEqual(['allow', 'none']);
  });
  it('a clusterwide {} peer selects pods of every namespace but not world', () => {
    const { ingress } = setup(cnp('  ingress: [{fromEndpoints: [{}]}]', 'CiliumClusterwideNetworkPolicy', 'labels: {}'));
    expect([ingress(pods.ya.id), ingress(pods.xb.id), ingress(WORLD)]).toEqual(['allow', 'allow', 'none']);
  });
  it('the endpointSelector of a namespaced policy selects only its namespace', () => {
    const { engine } = setup(cnp('  ingress: [{}]'));
    expect(engine.upsertEndpoint(2, pods.ya.labels).policy.enforcement.ingress).toBe(false);
  });
  it('toFQDNs selects identities the DNS proxy labelled with the name', () => {
    const { engine, egress } = setup(cnp('  egress: [{toFQDNs: [{matchPattern: "*.example.com"}]}]'));
    engine.updateIdentities([{ id: 16777290, labels: [{ source: 'fqdn', key: '*.example.com', value: '' }] }]);
    expect(egress(16777290)).toBe('allow');
  });
});
