// One CiliumNetworkPolicy rule (spec or specs[i]) to PolicyRules, one per ingress/egress section.
import type { AuthMode, Direction, PolicyKind, PolicyRule, PortRule } from '../model.js';
import type { LabelSelector, Selector } from '../selector.js';
import { labelSelector, requirement, WildcardSelector } from '../selector.js';
import { entitySelectors, isEntity } from '../entities.js';
import { parsePrefix, prefixContains } from '../cidr.js';
import type { Issues, JsonObject } from './issues.js';
import { asBoolean, asList, asObject, asString, checkFields, join, quote } from './issues.js';
import { parseLabelSelector } from './label-selector.js';
import { parseIcmps, parseToPorts } from './ports.js';
import { parseDnsSelectors } from './l7.js';
import type { SelectorScope } from './scope.js';
import { scopePeer, scopeSubject } from './scope.js';

export interface RuleContext {
  readonly kind: PolicyKind;
  readonly name: string;
  readonly namespace?: string;
  readonly scope: SelectorScope;
}

const ruleFields = [
  'endpointSelector', 'nodeSelector', 'ingress', 'ingressDeny', 'egress', 'egressDeny',
  'labels', 'description', 'enableDefaultDeny', 'log',
];
const ingressFields = [
  'fromEndpoints', 'fromRequires', 'fromEntities', 'fromCIDR', 'fromCIDRSet', 'fromNodes', 'fromGroups',
  'toPorts', 'icmps', 'authentication',
];
const egressFields = [
  'toEndpoints', 'toRequires', 'toEntities', 'toCIDR', 'toCIDRSet', 'toNodes', 'toGroups', 'toServices',
  'toFQDNs', 'toPorts', 'icmps', 'authentication',
];

export function parseCiliumRule(v: unknown, path: string, issues: Issues, ctx: RuleContext): PolicyRule[] {
  const obj = asObject(v, path, issues);
  if (obj === undefined) return [];
  checkFields(obj, path, ruleFields, issues);
  let subject: LabelSelector | undefined;
  const hasEs = obj.endpointSelector !== undefined && obj.endpointSelector !== null;
  const hasNs = obj.nodeSelector !== undefined && obj.nodeSelector !== null;
  if (hasEs && hasNs) issues.add(path, 'endpointSelector and nodeSelector are mutually exclusive');
  else if (!hasEs && !hasNs) issues.add(join(path, 'endpointSelector'), 'required (or nodeSelector)');
  else if (hasEs) {
    const s = parseLabelSelector(obj.endpointSelector, join(path, 'endpointSelector'), issues);
    if (s !== undefined) subject = scopeSubject(s, ctx.scope);
  } else {
    if (ctx.kind !== 'CiliumClusterwideNetworkPolicy') {
      issues.add(join(path, 'nodeSelector'), 'is only allowed in a CiliumClusterwideNetworkPolicy');
    }
    const s = parseLabelSelector(obj.nodeSelector, join(path, 'nodeSelector'), issues);
    // Node selectors select the host endpoint of matching nodes.
    if (s !== undefined) subject = labelSelector([...s.requirements, requirement('reserved:host', 'Exists')]);
  }
  const defaults = { ingress: true, egress: true };
  if (obj.enableDefaultDeny !== undefined && obj.enableDefaultDeny !== null) {
    const dp = join(path, 'enableDefaultDeny');
    const d = asObject(obj.enableDefaultDeny, dp, issues);
    if (d !== undefined) {
      checkFields(d, dp, ['ingress', 'egress'], issues);
      for (const dir of ['ingress', 'egress'] as const) {
        if (d[dir] === undefined || d[dir] === null) continue;
        const b = asBoolean(d[dir], join(dp, dir), issues);
        if (b !== undefined) defaults[dir] = b;
      }
    }
  }
  if (obj.labels !== undefined) asList(obj.labels, join(path, 'labels'), issues);
  if (obj.description !== undefined) asString(obj.description, join(path, 'description'), issues);

  const sections: { field: string; direction: Direction; deny: boolean }[] = [
    { field: 'ingress', direction: 'ingress', deny: false },
    { field: 'ingressDeny', direction: 'ingress', deny: true },
    { field: 'egress', direction: 'egress', deny: false },
    { field: 'egressDeny', direction: 'egress', deny: true },
  ];
  const out: PolicyRule[] = [];
  for (const sec of sections) {
    const value = obj[sec.field];
    if (value === undefined || value === null) continue;
    const sp = join(path, sec.field);
    const list = asList(value, sp, issues) ?? [];
    list.forEach((item, i) => {
      const ip = `${sp}[${i}]`;
      const section = parseSection(item, ip, issues, ctx, sec.direction, sec.deny);
      if (section === undefined || subject === undefined) return;
      out.push({
        origin: { kind: ctx.kind, ...(ctx.namespace !== undefined ? { namespace: ctx.namespace } : {}), name: ctx.name, path: ip },
        subject,
        direction: sec.direction,
        deny: sec.deny,
        peers: section.peers,
        ...(section.toPorts !== undefined ? { toPorts: section.toPorts } : {}),
        ...(section.auth !== undefined ? { auth: section.auth } : {}),
        defaultDeny: defaults[sec.direction],
      });
    });
  }
  return out;
}

interface Section {
  peers: Selector[];
  toPorts?: PortRule[];
  auth?: AuthMode;
}

function parseSection(
  v: unknown,
  path: string,
  issues: Issues,
  ctx: RuleContext,
  direction: Direction,
  deny: boolean,
): Section | undefined {
  const obj = asObject(v, path, issues);
  if (obj === undefined) return undefined;
  const before = issues.list.length;
  const prefix = direction === 'ingress' ? 'from' : 'to';
  checkFields(obj, path, direction === 'ingress' ? ingressFields : egressFields, issues);
  for (const f of [`${prefix}Requires`, `${prefix}Nodes`, `${prefix}Groups`, 'toServices']) {
    if (obj[f] !== undefined && (direction === 'egress' || f !== 'toServices')) {
      issues.add(join(path, f), 'is not supported by cilium-ts');
    }
  }
  const peers: Selector[] = [];
  let hasL3 = false;
  const epField = `${prefix}Endpoints`;
  if (obj[epField] !== undefined && obj[epField] !== null) {
    hasL3 = true;
    const lp = join(path, epField);
    (asList(obj[epField], lp, issues) ?? []).forEach((s, i) => {
      const sel = parseLabelSelector(s, `${lp}[${i}]`, issues);
      if (sel !== undefined) peers.push(scopePeer(sel, ctx.scope));
    });
  }
  const entField = `${prefix}Entities`;
  if (obj[entField] !== undefined && obj[entField] !== null) {
    hasL3 = true;
    const lp = join(path, entField);
    (asList(obj[entField], lp, issues) ?? []).forEach((e, i) => {
      if (typeof e === 'string' && isEntity(e)) peers.push(...entitySelectors(e));
      else issues.add(`${lp}[${i}]`, `${quote(e)} is not an entity (all, world, cluster, host, remote-node, kube-apiserver, ingress, init, health, unmanaged, none)`);
    });
  }
  const cidrs: { cidr: string; except: string[] }[] = [];
  const cidrField = `${prefix}CIDR`;
  if (obj[cidrField] !== undefined && obj[cidrField] !== null) {
    hasL3 = true;
    const lp = join(path, cidrField);
    (asList(obj[cidrField], lp, issues) ?? []).forEach((c, i) => {
      const p = typeof c === 'string' ? parsePrefix(c) : undefined;
      if (p === undefined) issues.add(`${lp}[${i}]`, `${quote(c)} is not a CIDR`);
      else cidrs.push({ cidr: p.text, except: [] });
    });
  }
  const setField = `${prefix}CIDRSet`;
  if (obj[setField] !== undefined && obj[setField] !== null) {
    hasL3 = true;
    const lp = join(path, setField);
    (asList(obj[setField], lp, issues) ?? []).forEach((c, i) => {
      const cp = `${lp}[${i}]`;
      const co = asObject(c, cp, issues);
      if (co !== undefined) {
        const r = parseCidrSet(co, cp, issues);
        if (r !== undefined) cidrs.push(r);
      }
    });
  }
  for (const c of cidrs) peers.push({ type: 'cidr', cidr: c.cidr, except: c.except });
  // S-11: both all-address prefixes together also select the world identity itself.
  if (cidrs.some((c) => c.cidr === '0.0.0.0/0') && cidrs.some((c) => c.cidr === '::/0')) {
    peers.push(labelSelector([requirement('reserved:world', 'Exists')]));
  }
  if (direction === 'egress' && obj.toFQDNs !== undefined && obj.toFQDNs !== null) {
    const fp = join(path, 'toFQDNs');
    if (deny) issues.add(fp, 'toFQDNs is not allowed in deny rules');
    else if (hasL3) issues.add(fp, 'toFQDNs cannot be combined with other L3 selectors');
    hasL3 = true;
    for (const d of parseDnsSelectors(obj.toFQDNs, fp, issues)) {
      peers.push(d.matchName !== undefined ? { type: 'fqdn', matchName: d.matchName } : { type: 'fqdn', matchPattern: d.matchPattern ?? '' });
    }
  }
  let auth: AuthMode | undefined;
  if (obj.authentication !== undefined && obj.authentication !== null) {
    const ap = join(path, 'authentication');
    if (deny) issues.add(ap, 'authentication is not allowed in deny rules');
    else {
      const a = asObject(obj.authentication, ap, issues);
      if (a !== undefined) {
        checkFields(a, ap, ['mode'], issues);
        if (a.mode === 'disabled' || a.mode === 'required' || a.mode === 'test-always-fail') auth = a.mode;
        else issues.add(join(ap, 'mode'), `${quote(a.mode)} is not one of disabled, required, test-always-fail`);
      }
    }
  }
  let toPorts: PortRule[] | undefined;
  if (obj.toPorts !== undefined && obj.toPorts !== null) {
    toPorts = parseToPorts(obj.toPorts, join(path, 'toPorts'), issues, { direction, deny });
  }
  if (obj.icmps !== undefined && obj.icmps !== null) {
    if (toPorts !== undefined && toPorts.length > 0) issues.add(join(path, 'icmps'), 'icmps and toPorts cannot be used together');
    else toPorts = parseIcmps(obj.icmps, join(path, 'icmps'), issues);
  }
  if (issues.list.length > before) return undefined;
  const extra = auth !== undefined ? { auth } : {};
  if (!hasL3) {
    // S-1/S-2: no L3 peer with L4 means every peer; with neither L3 nor L4 the section selects nothing.
    return toPorts !== undefined ? { peers: [WildcardSelector], toPorts, ...extra } : { peers: [], ...extra };
  }
  return toPorts !== undefined ? { peers, toPorts, ...extra } : { peers, ...extra };
}

export function parseCidrSet(
  co: JsonObject,
  path: string,
  issues: Issues,
  cidrField = 'cidr',
): { cidr: string; except: string[] } | undefined {
  checkFields(co, path, cidrField === 'cidr' ? ['cidr', 'except', 'cidrGroupRef', 'cidrGroupSelector'] : [cidrField, 'except'], issues);
  if (co.cidrGroupRef !== undefined || co.cidrGroupSelector !== undefined) {
    issues.add(join(path, co.cidrGroupRef !== undefined ? 'cidrGroupRef' : 'cidrGroupSelector'), 'is not supported by cilium-ts');
    return undefined;
  }
  if (co[cidrField] === undefined) {
    issues.add(join(path, cidrField), 'required');
    return undefined;
  }
  const outer = typeof co[cidrField] === 'string' ? parsePrefix(co[cidrField]) : undefined;
  if (outer === undefined) {
    issues.add(join(path, cidrField), `${quote(co[cidrField])} is not a CIDR`);
    return undefined;
  }
  const except: string[] = [];
  if (co.except !== undefined && co.except !== null) {
    const ep = join(path, 'except');
    (asList(co.except, ep, issues) ?? []).forEach((e, i) => {
      const p = typeof e === 'string' ? parsePrefix(e) : undefined;
      if (p === undefined) issues.add(`${ep}[${i}]`, `${quote(e)} is not a CIDR`);
      else if (!prefixContains(outer, p)) issues.add(`${ep}[${i}]`, `${p.text} is not contained in ${outer.text}`);
      else except.push(p.text);
    });
  }
  return { cidr: outer.text, except };
}
