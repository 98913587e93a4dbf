import type { Endpoint, Flow, FlowFilter } from '@cilium-ts/proto';
import { FilterError } from './filter-error.js';
import { compileIpMatcher } from './ip.js';
import { compileLabelSelectors } from './label-selector.js';
import { compileNamespacedNameMatcher } from './namespaced-name.js';
import { compileFqdnPatterns, compileNodeNamePatterns, compileRe2 } from './name-patterns.js';

/** A compiled filter: called once per flow on the hot path, so it allocates nothing itself. */
export type FlowPredicate = (flow: Flow) => boolean;

const MESSAGE_TYPE_ACCESS_LOG = 129;

const protocolMatchers: Readonly<Record<string, FlowPredicate>> = {
  tcp: (f) => f.l4?.protocol.case === 'TCP',
  udp: (f) => f.l4?.protocol.case === 'UDP',
  sctp: (f) => f.l4?.protocol.case === 'SCTP',
  icmp: (f) => f.l4?.protocol.case === 'ICMPv4' || f.l4?.protocol.case === 'ICMPv6',
  icmpv4: (f) => f.l4?.protocol.case === 'ICMPv4',
  icmpv6: (f) => f.l4?.protocol.case === 'ICMPv6',
  vrrp: (f) => f.l4?.protocol.case === 'VRRP',
  igmp: (f) => f.l4?.protocol.case === 'IGMP',
  dns: (f) => f.l7?.record.case === 'dns',
  http: (f) => f.l7?.record.case === 'http',
  kafka: (f) => f.l7?.record.case === 'kafka',
};

function l4Ports(flow: Flow): { source: number; destination: number } | undefined {
  const p = flow.l4?.protocol;
  if (p?.case === 'TCP' || p?.case === 'UDP' || p?.case === 'SCTP') return { source: p.value.sourcePort, destination: p.value.destinationPort };
  return undefined;
}

function parsePorts(values: readonly string[], path: string): Set<number> {
  return new Set(values.map((v, i) => {
    if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new FilterError(`${path}[${i}]`, `invalid port ${JSON.stringify(v)}`);
    return Number(v);
  }));
}

function httpStatusMatcher(values: readonly string[], path: string): (code: number) => boolean {
  const full = new Set<string>();
  const prefixes: string[] = [];
  values.forEach((v, i) => {
    if (/^[1-5][0-9]{2}$/.test(v)) full.add(v);
    else if (/^[1-5][0-9]?\+$/.test(v)) prefixes.push(v.slice(0, -1));
    else throw new FilterError(`${path}[${i}]`, `invalid status code prefix ${JSON.stringify(v)}`);
  });
  return (code) => {
    const text = String(code).padStart(3, '0');
    return full.has(text) || prefixes.some((p) => text.startsWith(p));
  };
}

// Go's url.ParseRequestURI then .Path: an absolute path or an absolute URL, decoded.
function requestPath(url: string): string | undefined {
  if (url.startsWith('/')) {
    const end = url.search(/[?#]/);
    const raw = end === -1 ? url : url.slice(0, end);
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
}

const noEndpoint: Endpoint | undefined = undefined;

/**
 * Compiles one FlowFilter: every set field must match (AND), any value within a field may match
 * (OR). A filter with no fields set matches every flow.
 */
export function compileFlowFilter(ff: FlowFilter, path = 'filter'): FlowPredicate {
  const checks: FlowPredicate[] = [];
  const at = (field: string) => `${path}.${field}`;
  const add = (p: FlowPredicate) => checks.push(p);
  const src = (f: Flow) => f.source ?? noEndpoint;
  const dst = (f: Flow) => f.destination ?? noEndpoint;

  if (ff.uuid.length > 0) {
    const set = new Set(ff.uuid);
    add((f) => set.has(f.uuid));
  }
  if (ff.sourceIp.length > 0) {
    const m = compileIpMatcher(ff.sourceIp, at('source_ip'));
    add((f) => m(f.IP?.source ?? ''));
  }
  if (ff.sourceIpXlated.length > 0) {
    const m = compileIpMatcher(ff.sourceIpXlated, at('source_ip_xlated'));
    add((f) => m(f.IP?.sourceXlated ?? ''));
  }
  if (ff.destinationIp.length > 0) {
    const m = compileIpMatcher(ff.destinationIp, at('destination_ip'));
    add((f) => m(f.IP?.destination ?? ''));
  }
  if (ff.sourcePod.length > 0) {
    const m = compileNamespacedNameMatcher(ff.sourcePod, at('source_pod'));
    add((f) => m(f.source?.namespace ?? '', f.source?.podName ?? ''));
  }
  if (ff.destinationPod.length > 0) {
    const m = compileNamespacedNameMatcher(ff.destinationPod, at('destination_pod'));
    add((f) => m(f.destination?.namespace ?? '', f.destination?.podName ?? ''));
  }
  if (ff.sourceService.length > 0) {
    const m = compileNamespacedNameMatcher(ff.sourceService, at('source_service'));
    add((f) => m(f.sourceService?.namespace ?? '', f.sourceService?.name ?? ''));
  }
  if (ff.destinationService.length > 0) {
    const m = compileNamespacedNameMatcher(ff.destinationService, at('destination_service'));
    add((f) => m(f.destinationService?.namespace ?? '', f.destinationService?.name ?? ''));
  }
  if (ff.sourceFqdn.length > 0) {
    const re = compileFqdnPatterns(ff.sourceFqdn, at('source_fqdn'));
    add((f) => f.sourceNames.some((n) => re.test(n)));
  }
  if (ff.destinationFqdn.length > 0) {
    const re = compileFqdnPatterns(ff.destinationFqdn, at('destination_fqdn'));
    add((f) => f.destinationNames.some((n) => re.test(n)));
  }
  if (ff.sourceLabel.length > 0) {
    const m = compileLabelSelectors(ff.sourceLabel, at('source_label'));
    add((f) => m(f.source?.labels ?? []));
  }
  if (ff.destinationLabel.length > 0) {
    const m = compileLabelSelectors(ff.destinationLabel, at('destination_label'));
    add((f) => m(f.destination?.labels ?? []));
  }
  if (ff.nodeLabels.length > 0) {
    const m = compileLabelSelectors(ff.nodeLabels, at('node_labels'));
    add((f) => m(f.nodeLabels));
  }
  for (const [list, get] of [
    [ff.sourceWorkload, src],
    [ff.destinationWorkload, dst],
  ] as const) {
    if (list.length === 0) continue;
    const wanted = list.map((w) => ({ name: w.name, kind: w.kind }));
    add((f) => (get(f)?.workloads ?? []).some((w) => wanted.some((x) => (x.name === '' || x.name === w.name) && (x.kind === '' || x.kind === w.kind))));
  }
  for (const [field, list, get] of [
    ['source_cluster_name', ff.sourceClusterName, src],
    ['destination_cluster_name', ff.destinationClusterName, dst],
  ] as const) {
    if (list.length === 0) continue;
    const i = list.indexOf('');
    if (i !== -1) throw new FilterError(`${at(field)}[${i}]`, 'cluster name must not be empty');
    const set = new Set(list);
    add((f) => set.has(get(f)?.clusterName ?? ''));
  }
  if (ff.sourceIdentity.length > 0) {
    const set = new Set(ff.sourceIdentity);
    add((f) => set.has(f.source?.identity ?? 0));
  }
  if (ff.destinationIdentity.length > 0) {
    const set = new Set(ff.destinationIdentity);
    add((f) => set.has(f.destination?.identity ?? 0));
  }
  if (ff.trafficDirection.length > 0) {
    const set = new Set(ff.trafficDirection);
    add((f) => set.has(f.trafficDirection));
  }
  if (ff.verdict.length > 0) {
    const set = new Set(ff.verdict);
    add((f) => set.has(f.verdict));
  }
  if (ff.dropReasonDesc.length > 0) {
    const set = new Set(ff.dropReasonDesc);
    add((f) => set.has(f.dropReasonDesc));
  }
  if (ff.interface.length > 0) {
    const wanted = ff.interface.map((i) => ({ index: i.index, name: i.name }));
    add((f) => {
      const iface = f.interface;
      if (!iface) return false;
      return wanted.some((w) => (w.index === 0 || w.index === iface.index) && (w.name === '' || w.name === iface.name));
    });
  }
  if (ff.eventType.length > 0) {
    const wanted = ff.eventType.map((e) => ({ type: e.type, matchSubType: e.matchSubType, subType: e.subType }));
    add((f) => {
      const ev = f.eventType;
      if (!ev) return false;
      return wanted.some((w) => (w.type === 0 || w.type === ev.type) && (!w.matchSubType || w.subType === ev.subType));
    });
  }
  const httpField = (field: string, present: boolean) => {
    if (present && ff.eventType.length > 0 && !ff.eventType.some((e) => e.type === MESSAGE_TYPE_ACCESS_LOG)) {
      throw new FilterError(at(field), "filtering by HTTP fields requires the event type filter to match 'l7' events");
    }
    return present;
  };
  if (httpField('http_status_code', ff.httpStatusCode.length > 0)) {
    const m = httpStatusMatcher(ff.httpStatusCode, at('http_status_code'));
    add((f) => {
      const rec = f.l7?.record;
      return rec?.case === 'http' && rec.value.code !== 0 && m(rec.value.code);
    });
  }
  if (httpField('http_method', ff.httpMethod.length > 0)) {
    const methods = new Set(ff.httpMethod.map((m) => m.toUpperCase()));
    add((f) => {
      const rec = f.l7?.record;
      return rec?.case === 'http' && rec.value.method !== '' && methods.has(rec.value.method.toUpperCase());
    });
  }
  if (httpField('http_path', ff.httpPath.length > 0)) {
    const res = ff.httpPath.map((p, i) => compileRe2(p, `${at('http_path')}[${i}]`));
    add((f) => {
      const rec = f.l7?.record;
      if (rec?.case !== 'http' || rec.value.url === '') return false;
      const p = requestPath(rec.value.url);
      return p !== undefined && res.some((re) => re.test(p));
    });
  }
  if (httpField('http_url', ff.httpUrl.length > 0)) {
    const res = ff.httpUrl.map((p, i) => compileRe2(p, `${at('http_url')}[${i}]`));
    add((f) => {
      const rec = f.l7?.record;
      return rec?.case === 'http' && rec.value.url !== '' && res.some((re) => re.test(rec.value.url));
    });
  }
  if (httpField('http_header', ff.httpHeader.length > 0)) {
    const wanted = ff.httpHeader.map((h) => ({ key: h.key, value: h.value }));
    add((f) => {
      const rec = f.l7?.record;
      if (rec?.case !== 'http') return false;
      return rec.value.headers.some((h) => wanted.some((w) => (w.key === '' || w.key === h.key) && (w.value === '' || w.value === h.value)));
    });
  }
  if (ff.dnsQuery.length > 0) {
    const res = ff.dnsQuery.map((p, i) => compileRe2(p, `${at('dns_query')}[${i}]`));
    add((f) => {
      const rec = f.l7?.record;
      return rec?.case === 'dns' && res.some((re) => re.test(rec.value.query));
    });
  }
  if (ff.protocol.length > 0) {
    const matchers = ff.protocol.map((p, i) => {
      const m = protocolMatchers[p.toLowerCase()];
      if (!m) throw new FilterError(`${at('protocol')}[${i}]`, `unknown protocol ${JSON.stringify(p)}`);
      return m;
    });
    add((f) => matchers.some((m) => m(f)));
  }
  if (ff.sourcePort.length > 0) {
    const ports = parsePorts(ff.sourcePort, at('source_port'));
    add((f) => {
      const p = l4Ports(f);
      return p !== undefined && ports.has(p.source);
    });
  }
  if (ff.destinationPort.length > 0) {
    const ports = parsePorts(ff.destinationPort, at('destination_port'));
    add((f) => {
      const p = l4Ports(f);
      return p !== undefined && ports.has(p.destination);
    });
  }
  if (ff.reply.length > 0) {
    const wanted = ff.reply;
    // Upstream treats an unknown is_reply on a dropped flow as "not a reply", for old clients.
    add((f) => {
      if (f.isReply === undefined && f.verdict !== 2) return false;
      const reply = f.isReply ?? false;
      return wanted.includes(reply);
    });
  }
  if (ff.tcpFlags.length > 0) {
    const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;
    const wanted = ff.tcpFlags.map((t) => names.filter((n) => t[n]));
    add((f) => {
      const p = f.l4?.protocol;
      const flags = p?.case === 'TCP' ? p.value.flags : undefined;
      if (!flags) return false;
      return wanted.some((set) => set.every((n) => flags[n]));
    });
  }
  if (ff.nodeName.length > 0) {
    const re = compileNodeNamePatterns(ff.nodeName, at('node_name'));
    add((f) => f.nodeName !== '' && re.test(f.nodeName.includes('/') ? f.nodeName : `default/${f.nodeName}`));
  }
  if (ff.ipVersion.length > 0) {
    const set = new Set(ff.ipVersion);
    add((f) => set.has(f.IP?.ipVersion ?? 0));
  }
  if (ff.traceId.length > 0) {
    const set = new Set(ff.traceId);
    add((f) => {
      const id = f.traceContext?.parent?.traceId ?? '';
      return id !== '' && set.has(id);
    });
  }
  if (ff.ipTraceId.length > 0) {
    const set = new Set(ff.ipTraceId);
    add((f) => f.ipTraceId !== undefined && set.has(f.ipTraceId.traceId));
  }
  if (ff.encrypted.length > 0) {
    const wanted = ff.encrypted;
    add((f) => f.IP !== undefined && wanted.includes(f.IP.encrypted));
  }
  if ((ff.experimental?.celExpression.length ?? 0) > 0) {
    throw new FilterError(at('experimental.cel_expression'), 'CEL expressions are not supported by this server');
  }

  switch (checks.length) {
    case 0:
      return () => true;
    case 1:
      return checks[0] as FlowPredicate;
    case 2: {
      const [a, b] = checks as [FlowPredicate, FlowPredicate];
      return (f) => a(f) && b(f);
    }
    default:
      return (f) => {
        for (let i = 0; i < checks.length; i++) if (!(checks[i] as FlowPredicate)(f)) return false;
        return true;
      };
  }
}

/** Any of the filters matches (OR); `undefined` for an empty list, which callers treat as "no constraint". */
export function compileFlowFilters(filters: readonly FlowFilter[], path = 'filters'): FlowPredicate | undefined {
  if (filters.length === 0) return undefined;
  const compiled = filters.map((f, i) => compileFlowFilter(f, `${path}[${i}]`));
  if (compiled.length === 1) return compiled[0];
  return (flow) => {
    for (let i = 0; i < compiled.length; i++) if ((compiled[i] as FlowPredicate)(flow)) return true;
    return false;
  };
}

/** Keeps a flow when the whitelist matches one (or is empty) and the blacklist matches none. */
export function compileFlowSelection(whitelist: readonly FlowFilter[], blacklist: readonly FlowFilter[]): FlowPredicate {
  const allow = compileFlowFilters(whitelist, 'whitelist');
  const deny = compileFlowFilters(blacklist, 'blacklist');
  if (allow && deny) return (f) => allow(f) && !deny(f);
  if (allow) return allow;
  if (deny) return (f) => !deny(f);
  return () => true;
}
