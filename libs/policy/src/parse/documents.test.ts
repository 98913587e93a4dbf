// One row per policy construct: the document and the internal rules it becomes.
import { describe, expect, it } from 'vitest';
import type { PolicyRule } from '../index.js';
import { parsePolicies, selectorKey } from '../index.js';

function summary(r: PolicyRule): string {
  const peers = r.peers.map(selectorKey).join(' | ');
  const ports = r.toPorts?.map((p) =>
    p.ports.map((x) => `${x.protocol}/${x.port}${x.endPort !== undefined ? `-${x.endPort}` : ''}`).join(',') + (p.l7 ? ` ${p.l7.type}=${JSON.stringify(p.l7.rules)}` : ''),
  );
  return `${r.origin.path} ${r.direction}${r.deny ? ' deny' : ''}${r.defaultDeny ? '' : ' no-default-deny'} [${peers}]${ports ? ` ports ${ports.join('; ')}` : ''}`;
}

const cnp = (spec: string) => `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: prod}\nspec:\n  endpointSelector: {matchLabels: {app: web}}\n${spec}`;
const ns = 'k8s:io.kubernetes.pod.namespace=prod';

const constructs: [string, string, string[]][] = [
  ['fromEndpoints matchLabels (scoped to the namespace)', cnp('  ingress: [{fromEndpoints: [{matchLabels: {role: fe}}]}]'), [`spec.ingress[0] ingress [any:role=fe, ${ns}]`]],
  [
    'matchExpressions In/NotIn/Exists/DoesNotExist',
    cnp('  ingress: [{fromEndpoints: [{matchExpressions: [{key: a, operator: In, values: [x, y]}, {key: b, operator: NotIn, values: [z]}, {key: c, operator: Exists}, {key: d, operator: DoesNotExist}]}]}]'),
    [`spec.ingress[0] ingress [!any:d, any:a in (x,y), any:b notin (z), any:c, ${ns}]`],
  ],
  ['egress toEndpoints', cnp('  egress: [{toEndpoints: [{matchLabels: {k8s:app: db}}]}]'), [`spec.egress[0] egress [k8s:app=db, ${ns}]`]],
  ['ingressDeny and egressDeny', cnp('  ingressDeny: [{fromEntities: [world]}]\n  egressDeny: [{toEntities: [host]}]'), [
    'spec.ingressDeny[0] ingress deny [reserved:world | reserved:world-ipv4 | reserved:world-ipv6]',
    'spec.egressDeny[0] egress deny [reserved:host]',
  ]],
  ['fromEntities cluster and all', cnp('  ingress: [{fromEntities: [all]}]'), ['spec.ingress[0] ingress [&LabelSelector{}]']],
  ['fromCIDR and fromCIDRSet with except', cnp('  ingress: [{fromCIDR: [10.0.0.1/8], fromCIDRSet: [{cidr: 192.168.0.0/16, except: [192.168.1.0/24]}]}]'), [
    'spec.ingress[0] ingress [cidr:10.0.0.0/8 | cidr:192.168.0.0/16 except 192.168.1.0/24]',
  ]],
  ['IPv6 CIDR', cnp('  egress: [{toCIDR: ["2001:db8::/32"]}]'), ['spec.egress[0] egress [cidr:2001:db8::/32]']],
  ['toPorts numbers, names, ranges and protocols', cnp('  ingress: [{toPorts: [{ports: [{port: "80"}, {port: http, protocol: TCP}, {port: "8000", endPort: 8100, protocol: UDP}, {port: 9000, protocol: SCTP}]}]}]'), [
    'spec.ingress[0] ingress [&LabelSelector{}] ports ANY/80,TCP/http,UDP/8000-8100,SCTP/9000',
  ]],
  ['icmps', cnp('  egress: [{icmps: [{fields: [{type: 8}, {type: EchoRequest, family: IPv6}]}]}]'), ['spec.egress[0] egress [&LabelSelector{}] ports ICMP/8,ICMPv6/128']],
  ['http rules', cnp('  ingress: [{toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{method: GET, path: "/api/.*", host: "a.example", headers: [X-Trace], headerMatches: [{name: X-Token, value: "[0-9]+", mismatch: LOG}]}]}}]}]'), [
    'spec.ingress[0] ingress [&LabelSelector{}] ports TCP/80 http=[{"method":"GET","path":"/api/.*","host":"a.example","headers":["X-Trace"],"headerMatches":[{"name":"X-Token","value":"[0-9]+","mismatch":"LOG"}]}]',
  ]],
  ['kafka rules', cnp('  ingress: [{toPorts: [{ports: [{port: "9092", protocol: TCP}], rules: {kafka: [{role: produce, topic: orders, clientID: c1}, {apiKey: Fetch, apiVersion: "2"}]}}]}]'), [
    'spec.ingress[0] ingress [&LabelSelector{}] ports TCP/9092 kafka=[{"role":"produce","clientID":"c1","topic":"orders"},{"apiKey":"fetch","apiVersion":"2"}]',
  ]],
  ['dns rules and toFQDNs', cnp('  egress:\n  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}]\n    toPorts: [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*.Example.com."}]}}]\n  - toFQDNs: [{matchName: api.example.com}]'), [
    'spec.egress[0] egress [any:k8s-app=kube-dns, k8s:io.kubernetes.pod.namespace=kube-system] ports ANY/53 dns=[{"matchPattern":"*.example.com"}]',
    'spec.egress[1] egress [fqdn:api.example.com]',
  ]],
  ['enableDefaultDeny', cnp('  enableDefaultDeny: {ingress: false}\n  ingress: [{fromEntities: [host]}]\n  egress: [{toEntities: [host]}]'), [
    'spec.ingress[0] ingress no-default-deny [reserved:host]',
    'spec.egress[0] egress [reserved:host]',
  ]],
  ['ingress rule {} selects nothing', cnp('  ingress: [{}]'), ['spec.ingress[0] ingress []']],
  ['specs list', 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspecs:\n- {endpointSelector: {}, ingress: [{fromEntities: [host]}]}\n- {endpointSelector: {}, egress: [{toEntities: [world]}]}', [
    'specs[0].ingress[0] ingress [reserved:host]',
    'specs[1].egress[0] egress [reserved:world | reserved:world-ipv4 | reserved:world-ipv6]',
  ]],
  ['clusterwide peers need a namespace label', 'apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: p}\nspec: {endpointSelector: {}, ingress: [{fromEndpoints: [{matchLabels: {app: a}}]}]}', [
    'spec.ingress[0] ingress [any:app=a, k8s:io.kubernetes.pod.namespace]',
  ]],
  ['NetworkPolicy peers and policyTypes', 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: api}}}, {namespaceSelector: {matchLabels: {team: a}}, podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]\n    ports: [{port: 5432}, {port: 6000, endPort: 6010, protocol: UDP}]', [
    `spec.ingress[0] ingress [k8s:app=api, ${ns} | k8s:io.cilium.k8s.namespace.labels.team=a, k8s:io.kubernetes.pod.namespace | cidr:10.0.0.0/8 except 10.1.0.0/16] ports TCP/5432,UDP/6000-6010`,
    'spec.policyTypes egress []',
  ]],
  ['JSON input', JSON.stringify({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'j', namespace: 'prod' }, spec: { endpointSelector: {}, egress: [{ toEntities: ['kube-apiserver'] }] } }), [
    'spec.egress[0] egress [reserved:kube-apiserver]',
  ]],
];

describe('policy constructs', () => {
  it.each(constructs)('%s', (_name, text, want) => {
    const r = parsePolicies(text);
    expect(r.documents.flatMap((d) => d.errors)).toEqual([]);
    expect(r.policies.flatMap((p) => p.rules).map(summary)).toEqual(want);
  });

  it('scopes the endpointSelector of a namespaced policy to its namespace', () => {
    const [p] = parsePolicies(cnp('')).policies;
    expect(p?.rules).toEqual([]);
    const [q] = parsePolicies(cnp('  ingress: [{}]')).policies;
    expect(selectorKey(q!.rules[0]!.subject)).toBe(`any:app=web, ${ns}`);
  });
});
