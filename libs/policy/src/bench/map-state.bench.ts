// Policy engine benchmark: map state for 1 000 endpoints, 5 000 identities and 1 000 rules; the cost of
// one identity change; memory. Baselines from the same run: filling the selector cache alone, and a full
// regeneration for the identity change. Run: npm run bench -w libs/policy (after build).
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IdentityUpdate } from '../selector-cache.js';
import { SelectorCache } from '../selector-cache.js';
import { labelsFromK8sPod } from '@cilium-ts/labels';
import { PolicyEngine } from '../policy-engine.js';
import { parsePolicies } from '../parse/documents.js';
import { reservedIdentities } from '@cilium-ts/labels';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const NAMESPACES = 50;
const APPS = 20;
const TIERS = ['frontend', 'backend', 'db', 'cache'];
const IDENTITIES = 5000;
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 1000);
const RULES = 1000;

function podLabels(i: number) {
  const ns = `ns${i % NAMESPACES}`;
  return labelsFromK8sPod(ns, { app: `app${Math.floor(i / NAMESPACES) % APPS}`, tier: TIERS[i % TIERS.length]!, instance: `i${i}` }, { team: `t${i % 10}` });
}

function identities(): IdentityUpdate[] {
  return Array.from({ length: IDENTITIES }, (_, i) => ({ id: 256 + i, labels: podLabels(i) }));
}

function rule(r: number): string {
  const ns = `ns${r % NAMESPACES}`;
  const app = `app${Math.floor(r / NAMESPACES) % APPS}`;
  const l7 = r % 20 === 0 ? ', rules: {http: [{method: GET, path: "/api/.*"}]}' : '';
  const deny = r % 10 === 0 ? '\n  ingressDeny:\n  - fromEndpoints: [{matchLabels: {tier: cache}}]\n    toPorts: [{ports: [{port: "22", protocol: TCP}]}]' : '';
  const wide = r % 5 === 0
    ? '\n  - fromEndpoints: [{matchLabels: {tier: backend}, matchExpressions: [{key: k8s:io.kubernetes.pod.namespace, operator: Exists}]}]\n    toPorts: [{ports: [{port: "9090", protocol: TCP}]}]'
    : '';
  const subject = r % 25 === 0 ? '{}' : `{matchLabels: {app: ${app}}}`;
  return `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: rule-${r}, namespace: ${ns}}
spec:
  endpointSelector: ${subject}
  ingress:
  - fromEndpoints: [{matchLabels: {tier: frontend}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}, {port: "8080", endPort: 8090, protocol: TCP}]${l7}}]
  - fromEntities: [host]${wide}${deny}
  egress:
  - toEndpoints: [{matchLabels: {app: app${(r + 1) % APPS}}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  - toCIDRSet: [{cidr: 10.${r % 256}.0.0/16, except: [10.${r % 256}.1.0/24]}]
  - toEntities: [kube-apiserver]
`;
}

function ms(t0: number): number {
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const text = Array.from({ length: RULES }, (_, r) => rule(r)).join('---\n');
const parsed = parsePolicies(text);
if (!parsed.valid) throw new Error('bench policies are invalid');

// Baseline: the selector cache alone, with every peer selector of the rules registered.
gc();
let t0 = performance.now();
const cacheOnly = new SelectorCache();
cacheOnly.updateIdentities([...reservedIdentities(), ...identities()]);
for (const p of parsed.policies) for (const r of p.rules) for (const s of r.peers) cacheOnly.addSelector(s);
const baselineCache = ms(t0);

gc();
const heap0 = process.memoryUsage().heapUsed;
t0 = performance.now();
const engine = new PolicyEngine();
engine.updateIdentities(identities());
const upsert = engine.repository.upsert(parsed.policies);
if (!upsert.ok) throw new Error(upsert.errors.join('\n'));
for (let e = 0; e < ENDPOINTS; e++) {
  engine.upsertEndpoint(e + 1, podLabels(e * 5), [{ name: 'http', port: 8080, protocol: 'TCP' }]);
}
const full = ms(t0);
gc();
const heap1 = process.memoryUsage().heapUsed;

// Enumerating every entry, as an agent does once to fill the endpoints' BPF policy maps.
t0 = performance.now();
let entries = 0;
for (const id of engine.endpointIds()) for (const _ of engine.endpointPolicy(id)!.mapState) entries++;
const enumerate = ms(t0);

// One new identity: a frontend pod in ns0, selected by the ingress rules of ns0.
const addTimes: number[] = [];
const removeTimes: number[] = [];
let affected = 0;
let changed = 0;
for (let k = 0; k < 21; k++) {
  const id = 100000 + k;
  t0 = performance.now();
  const c = engine.updateIdentities([{ id, labels: labelsFromK8sPod('ns0', { app: 'app1', tier: 'frontend', instance: `new${k}` }, { team: 't0' }) }]);
  addTimes.push(ms(t0));
  affected = c.size;
  changed = [...c.values()].reduce((n, x) => n + x.adds.length + x.deletes.length, 0);
  t0 = performance.now();
  engine.updateIdentities([], [id]);
  removeTimes.push(ms(t0));
}

// Baseline for the identity change: recompute everything instead.
engine.updateIdentities([{ id: 200000, labels: labelsFromK8sPod('ns0', { app: 'app1', tier: 'frontend', instance: 'base' }, { team: 't0' }) }]);
engine.repository.upsert([]);
t0 = performance.now();
engine.regenerate();
const regenerate = ms(t0);

const rows: [string, string, string][] = [
  ['baseline: selector cache only (5 000 identities, all peer selectors)', `${baselineCache.toFixed(0)} ms`, `${cacheOnly.selectorCount} selectors`],
  ['full map state: 1 000 endpoints, 5 000 identities, 1 000 rules', `${full.toFixed(0)} ms`, `${entries} entries (target < 2000 ms)`],
  ['enumerate every entry of every endpoint (to write BPF maps)', `${enumerate.toFixed(0)} ms`, `${(entries / enumerate / 1000).toFixed(1)} M entries/s`],
  ['one new identity -> changed entries of all endpoints (median of 21)', `${median(addTimes).toFixed(2)} ms`, `${affected} endpoints, ${changed} changes (target < 5 ms)`],
  ['one identity removed (median of 21)', `${median(removeTimes).toFixed(2)} ms`, `max ${Math.max(...removeTimes).toFixed(2)} ms`],
  ['baseline: full regeneration instead of incremental', `${regenerate.toFixed(0)} ms`, `${(regenerate / median(addTimes)).toFixed(0)}x the incremental update`],
  ['memory: heapUsed delta for the engine', `${((heap1 - heap0) / 1024 / 1024).toFixed(1)} MiB`, `${engine.selectorCache.selectorCount} cached selectors`],
];
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(`${'measure'.padEnd(w0)}  ${'time'.padStart(w1)}  notes`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
