import { describe, expect, it } from 'vitest';
import { explain, formatExplanation, PolicyEngine } from './index.js';
import { labelsFromK8sPod } from '@cilium-ts/labels';

const policies = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db-ingress, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: api}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {app: intruder}}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-egress, namespace: prod}
spec:
  endpointSelector: {matchLabels: {app: api}}
  egress:
  - toEndpoints: [{matchLabels: {app: db}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  - toEntities: [world]
    toPorts: [{ports: [{port: "443", protocol: TCP}], rules: {http: [{method: GET, path: "/v1/.*"}]}}]
`;
const api = labelsFromK8sPod('prod', { app: 'api' });
const db = labelsFromK8sPod('prod', { app: 'db' });
const intruder = labelsFromK8sPod('prod', { app: 'intruder' });

function engine() {
  const e = new PolicyEngine();
  expect(e.repository.apply(policies).ok).toBe(true);
  return e;
}

describe('explain', () => {
  it('names the allowing rules on both sides', () => {
    const x = explain(engine(), { source: { labels: api }, destination: { labels: db }, port: 5432, protocol: 'TCP' });
    expect(x.allowed).toBe(true);
    expect(x.egress.rules).toEqual([{ kind: 'CiliumNetworkPolicy', namespace: 'prod', name: 'api-egress', path: 'spec.egress[0]' }]);
    expect(x.ingress.rules).toEqual([{ kind: 'CiliumNetworkPolicy', namespace: 'prod', name: 'db-ingress', path: 'spec.ingress[0]' }]);
    expect(x.ingress.outcome).toBe('allowed');
  });

  it('says default deny when nothing allowed it', () => {
    const x = explain(engine(), { source: { labels: api }, destination: { labels: db }, port: 22, protocol: 'TCP' });
    expect(x.allowed).toBe(false);
    expect(x.egress.outcome).toBe('default-deny');
    expect(x.egress.summary).toMatch(/denied: no rule allowed it: default deny$/);
  });

  it('names the deny rule that won', () => {
    const x = explain(engine(), { source: { labels: intruder }, destination: { labels: db }, port: 5432, protocol: 'TCP' });
    expect(x.egress.outcome).toBe('not-enforced');
    expect(x.ingress.outcome).toBe('denied');
    expect(x.ingress.rules.map((r) => r.path)).toEqual(['spec.ingressDeny[0]']);
  });

  it('reports the L7 redirect and its rules, and external peers as not enforced', () => {
    const e = engine();
    const x = explain(e, { source: { labels: api }, destination: { identity: 2 }, port: 443, protocol: 'TCP' });
    expect(x.egress.outcome).toBe('redirected');
    expect(x.egress.proxyPort).toBe(10002);
    expect(x.egress.l7).toEqual([{ type: 'http', rules: [{ method: 'GET', path: '/v1/.*' }] }]);
    expect(x.ingress.outcome).toBe('not-an-endpoint');
    expect(formatExplanation(x)).toBe(
      [
        'TCP/443',
        '  egress of k8s:app=api k8s:io.cilium.k8s.policy.cluster=default k8s:io.kubernetes.pod.namespace=prod: allowed by CiliumNetworkPolicy prod/api-egress spec.egress[1], redirected to the http proxy on port 10002 (L7 rules apply)',
        '  ingress: not enforced: reserved:world is not a local endpoint',
        '    egress L7 http: [{"method":"GET","path":"/v1/.*"}]',
        'verdict: ALLOWED',
      ].join('\n'),
    );
  });

  it('does not disturb the endpoints the engine holds', () => {
    const e = engine();
    e.upsertEndpoint(7, db);
    explain(e, { source: { labels: api }, destination: { labels: db }, port: 5432, protocol: 'TCP' });
    expect(e.updateIdentities([]).size).toBe(0);
  });
});
