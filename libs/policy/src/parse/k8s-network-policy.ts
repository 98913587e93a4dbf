// Kubernetes NetworkPolicy (networking.k8s.io/v1) to PolicyRules, with Kubernetes' peer semantics.
import type { Direction, PolicyRule, PortProtocol, PortRule } from '../model.js';
import type { LabelSelector, Selector } from '../selector.js';
import { labelSelector, requirement, WildcardSelector } from '../selector.js';
import { LabelSource, PodNamespaceLabel, PodNamespaceMetaLabelsPrefix } from '@cilium-ts/labels';
import type { Issues, JsonObject } from './issues.js';
import { asList, asObject, checkFields, join, quote } from './issues.js';
import { parseLabelSelector } from './label-selector.js';
import { parseEndPort, parsePort, parseProtocol } from './ports.js';
import { parseCidrSet } from './cilium-rule.js';

const namespaceKey = `${LabelSource.k8s}:${PodNamespaceLabel}`;
const podKey = (k: string): string => (k.includes(':') ? k : `${LabelSource.k8s}:${k}`);
// Every namespace carries its name as `kubernetes.io/metadata.name`; match that on the pod's namespace label.
const namespaceLabelKey = (k: string): string =>
  k === 'kubernetes.io/metadata.name' ? namespaceKey : `${LabelSource.k8s}:${PodNamespaceMetaLabelsPrefix}${k}`;

export function parseK8sNetworkPolicy(spec: JsonObject, issues: Issues, name: string, namespace: string): PolicyRule[] {
  checkFields(spec, 'spec', ['podSelector', 'ingress', 'egress', 'policyTypes'], issues);
  let subject: LabelSelector | undefined;
  if (spec.podSelector === undefined || spec.podSelector === null) issues.add('spec.podSelector', 'required');
  else {
    const s = parseLabelSelector(spec.podSelector, 'spec.podSelector', issues, podKey);
    if (s !== undefined) subject = labelSelector([...s.requirements, requirement(namespaceKey, 'In', [namespace])]);
  }
  let types: Direction[];
  if (spec.policyTypes !== undefined && spec.policyTypes !== null) {
    types = [];
    (asList(spec.policyTypes, 'spec.policyTypes', issues) ?? []).forEach((t, i) => {
      if (t === 'Ingress') types.push('ingress');
      else if (t === 'Egress') types.push('egress');
      else issues.add(`spec.policyTypes[${i}]`, `${quote(t)} is not one of Ingress, Egress`);
    });
  } else {
    // Kubernetes' defaulting: Ingress always, Egress when the policy has egress rules.
    types = ['ingress'];
    if (Array.isArray(spec.egress) && spec.egress.length > 0) types.push('egress');
  }
  const out: PolicyRule[] = [];
  const origin = (path: string) => ({ kind: 'NetworkPolicy' as const, namespace, name, path });
  for (const direction of ['ingress', 'egress'] as const) {
    const value = spec[direction];
    const sp = `spec.${direction}`;
    const list = value === undefined || value === null ? [] : asList(value, sp, issues) ?? [];
    const parsed: PolicyRule[] = [];
    list.forEach((item, i) => {
      const ip = `${sp}[${i}]`;
      const r = parseK8sRule(item, ip, issues, direction, namespace);
      if (r !== undefined && subject !== undefined) {
        parsed.push({ origin: origin(ip), subject, direction, deny: false, ...r, defaultDeny: true });
      }
    });
    if (!types.includes(direction) || subject === undefined) continue;
    out.push(...parsed);
    // A policy type without rules isolates the pods in that direction and allows nothing.
    if (parsed.length === 0) {
      out.push({ origin: origin('spec.policyTypes'), subject, direction, deny: false, peers: [], defaultDeny: true });
    }
  }
  return out;
}

function parseK8sRule(
  v: unknown,
  path: string,
  issues: Issues,
  direction: Direction,
  namespace: string,
): { peers: Selector[]; toPorts?: PortRule[] } | undefined {
  const obj = asObject(v, path, issues);
  if (obj === undefined) return undefined;
  const before = issues.list.length;
  const peerField = direction === 'ingress' ? 'from' : 'to';
  checkFields(obj, path, [peerField, 'ports'], issues);
  let peers: Selector[] = [WildcardSelector];
  const peerValue = obj[peerField];
  if (peerValue !== undefined && peerValue !== null) {
    const pp = join(path, peerField);
    const list = asList(peerValue, pp, issues) ?? [];
    // An empty or missing from/to list matches every peer, unlike a CiliumNetworkPolicy's empty list.
    if (list.length > 0) {
      peers = [];
      list.forEach((p, i) => {
        const s = parsePeer(p, `${pp}[${i}]`, issues, namespace);
        if (s !== undefined) peers.push(s);
      });
    }
  }
  let toPorts: PortRule[] | undefined;
  if (obj.ports !== undefined && obj.ports !== null) {
    const pp = join(path, 'ports');
    const list = asList(obj.ports, pp, issues) ?? [];
    const ports: PortProtocol[] = [];
    list.forEach((p, i) => {
      const ip = `${pp}[${i}]`;
      const po = asObject(p, ip, issues);
      if (po === undefined) return;
      checkFields(po, ip, ['port', 'endPort', 'protocol'], issues);
      const port = po.port === undefined || po.port === null ? 0 : parsePort(po.port, join(ip, 'port'), issues, false);
      const protocol = parseProtocol(po.protocol, join(ip, 'protocol'), issues, ['TCP', 'UDP', 'SCTP']);
      let endPort: number | undefined;
      if (po.endPort !== undefined && po.endPort !== null) {
        if (po.port === undefined || po.port === null) issues.add(join(ip, 'endPort'), 'may not be used without port');
        else endPort = parseEndPort(po.endPort, port, join(ip, 'endPort'), issues);
      }
      if (port === undefined || protocol === undefined) return;
      ports.push(endPort !== undefined ? { port, endPort, protocol } : { port, protocol });
    });
    if (ports.length > 0) toPorts = [{ ports, path: pp }];
  }
  if (issues.list.length > before) return undefined;
  return toPorts !== undefined ? { peers, toPorts } : { peers };
}

function parsePeer(v: unknown, path: string, issues: Issues, namespace: string): Selector | undefined {
  const obj = asObject(v, path, issues);
  if (obj === undefined) return undefined;
  checkFields(obj, path, ['podSelector', 'namespaceSelector', 'ipBlock'], issues);
  const has = (k: string) => obj[k] !== undefined && obj[k] !== null;
  if (has('ipBlock')) {
    if (has('podSelector') || has('namespaceSelector')) {
      issues.add(path, 'may not specify both ipBlock and another peer');
      return undefined;
    }
    const ip = join(path, 'ipBlock');
    const b = asObject(obj.ipBlock, ip, issues);
    if (b === undefined) return undefined;
    const r = parseCidrSet(b, ip, issues);
    return r !== undefined ? { type: 'cidr', cidr: r.cidr, except: r.except } : undefined;
  }
  if (!has('podSelector') && !has('namespaceSelector')) {
    issues.add(path, 'must specify a peer');
    return undefined;
  }
  const reqs = [];
  if (has('podSelector')) {
    const s = parseLabelSelector(obj.podSelector, join(path, 'podSelector'), issues, podKey);
    if (s === undefined) return undefined;
    reqs.push(...s.requirements);
  }
  if (has('namespaceSelector')) {
    const s = parseLabelSelector(obj.namespaceSelector, join(path, 'namespaceSelector'), issues, namespaceLabelKey);
    if (s === undefined) return undefined;
    // Every pod carries its namespace label; this keeps non-pod identities (host, world) out.
    reqs.push(...s.requirements, requirement(namespaceKey, 'Exists'));
  } else {
    reqs.push(requirement(namespaceKey, 'In', [namespace]));
  }
  return labelSelector(reqs);
}
