import {
  AuthType,
  DebugCapturePoint,
  SocketTranslationPoint,
  TrafficDirection,
  Verdict,
  type Flow,
  type Policy,
} from '@cilium-ts/proto';
import { MinimalAllocationIdentity, reservedIdentityName } from '@cilium-ts/labels';
import { MessageType, dropReasonText, policyMatchTypeName, traceObservationPointName } from '../monitor/monitor-api.js';
import type { Colorer } from './colorer.js';

/** The texts of one flow as `hubble observe` shows them; shared by the compact, dict and table formats. */

export function flowPorts(f: Flow): [string, string] {
  const p = f.l4?.protocol;
  if (p?.case === 'TCP' || p?.case === 'UDP' || p?.case === 'SCTP') return [String(p.value.sourcePort), String(p.value.destinationPort)];
  return ['', ''];
}

// Go's path.Join for two elements: an empty namespace leaves just the name.
const joinName = (ns: string, name: string) => (ns === '' ? name : `${ns}/${name}`);

function hostname(c: Colorer, ip: string, port: string, ns: string, pod: string, svc: string, names: readonly string[], translate: boolean): string {
  let host = ip;
  if (translate) {
    if (pod !== '') host = joinName(ns, pod);
    else if (svc !== '') host = joinName(ns, svc);
    else if (names.length > 0) host = names.join(',');
  }
  if (port !== '' && port !== '0') {
    const h = host.includes(':') ? `[${host}]` : host;
    return `${h}:${c.port(port)}`;
  }
  return host;
}

/** Source and destination as `ns/pod[:port]`, `ns/svc`, DNS names, the IP, or the MACs without IP. */
export function flowHostNames(c: Colorer, f: Flow, translate: boolean): [string, string] {
  if (!f.IP) {
    if (f.ethernet) return [c.host(f.ethernet.source), c.host(f.ethernet.destination)];
    return ['', ''];
  }
  let srcNs = f.source?.namespace ?? '';
  let dstNs = f.destination?.namespace ?? '';
  const srcPod = f.source?.podName ?? '';
  const dstPod = f.destination?.podName ?? '';
  let srcSvc = '';
  let dstSvc = '';
  if (f.sourceService) {
    srcNs = f.sourceService.namespace;
    srcSvc = f.sourceService.name;
  }
  if (f.destinationService) {
    dstNs = f.destinationService.namespace;
    dstSvc = f.destinationService.name;
  }
  const [sp, dp] = flowPorts(f);
  return [
    c.host(hostname(c, f.IP.source, sp, srcNs, srcPod, srcSvc, f.sourceNames, translate)),
    c.host(hostname(c, f.IP.destination, dp, dstNs, dstPod, dstSvc, f.destinationNames, translate)),
  ];
}

export function identityText(c: Colorer, id: number): string {
  if (id < MinimalAllocationIdentity) return c.identity(`(${reservedIdentityName(id) ?? String(id)})`);
  return c.identity(`(ID:${id})`);
}

const sockXlateNames: Partial<Record<SocketTranslationPoint, string>> = {
  [SocketTranslationPoint.SOCK_XLATE_POINT_POST_DIRECTION_FWD]: 'post-xlate-fwd',
  [SocketTranslationPoint.SOCK_XLATE_POINT_POST_DIRECTION_REV]: 'post-xlate-rev',
  [SocketTranslationPoint.SOCK_XLATE_POINT_PRE_DIRECTION_FWD]: 'pre-xlate-fwd',
  [SocketTranslationPoint.SOCK_XLATE_POINT_PRE_DIRECTION_REV]: 'pre-xlate-rev',
};

/** TYPE column: the L7 record kind, observation point, drop reason, policy verdict match, ... */
export function flowTypeText(f: Flow): string {
  if (f.l7) {
    let protocol = 'l7';
    let type = enumName(L7_TYPE_NAMES, f.l7.type).toLowerCase();
    const rec = f.l7.record;
    if (rec.case === 'http') protocol = 'http';
    else if (rec.case === 'dns') {
      protocol = 'dns';
      type += ' ' + rec.value.observationSource;
    } else if (rec.case === 'kafka') protocol = 'kafka';
    return `${protocol}-${type}`;
  }
  const ev = f.eventType;
  switch (ev?.type) {
    case MessageType.trace:
      return traceObservationPointName(ev.subType & 0xff);
    case MessageType.drop:
      return dropReasonText(ev.subType & 0xff);
    case MessageType.policyVerdict:
      return `policy-verdict:${policyMatchTypeName(f.policyMatchType)} ${enumName(TRAFFIC_DIRECTION_NAMES, f.trafficDirection)}`;
    case MessageType.capture:
      return enumName(DEBUG_CAPTURE_NAMES, f.debugCapturePoint);
    case MessageType.traceSock:
      return sockXlateNames[f.sockXlatePoint] ?? enumName(SOCK_XLATE_NAMES, f.sockXlatePoint);
    default:
      return 'UNKNOWN';
  }
}

function policyNames(policies: readonly Policy[]): string {
  const named = policies.filter((p) => p.kind !== '' && p.name !== '');
  return named.length === 0 ? '' : ' BY ' + named.map((p) => `${p.name} (${p.kind})`).join(', ');
}

/** VERDICT column; policy verdict events say ALLOWED/DENIED/AUDITED, optionally with the policies. */
export function verdictText(c: Colorer, f: Flow, withPolicyNames: boolean): string {
  const isPolicyVerdict = f.eventType?.type === MessageType.policyVerdict;
  const egress = f.trafficDirection === TrafficDirection.EGRESS;
  const ingress = f.trafficDirection === TrafficDirection.INGRESS;
  let msg = enumName(VERDICT_NAMES, f.verdict);
  switch (f.verdict) {
    case Verdict.FORWARDED:
    case Verdict.REDIRECTED:
      if (isPolicyVerdict) {
        msg = 'ALLOWED';
        if (withPolicyNames) msg += policyNames(egress ? f.egressAllowedBy : ingress ? f.ingressAllowedBy : []);
      }
      return c.verdictForwarded(msg);
    case Verdict.DROPPED:
    case Verdict.ERROR:
      if (isPolicyVerdict) {
        msg = 'DENIED';
        if (withPolicyNames) msg += policyNames(egress ? f.egressDeniedBy : ingress ? f.ingressDeniedBy : []);
      }
      return c.verdictDropped(msg);
    case Verdict.AUDIT:
      if (isPolicyVerdict) msg = 'AUDITED';
      return c.verdictAudit(msg);
    case Verdict.TRACED:
    case Verdict.TRANSLATED:
      return c.verdictAudit(msg);
    default:
      return msg;
  }
}

/** SUMMARY column: `[IP Trace ID: n; ]Summary[; Auth: X]`. */
export function summaryText(c: Colorer, f: Flow): string {
  let out = '';
  if (f.ipTraceId && f.ipTraceId.traceId > 0n) out += `IP Trace ID: ${f.ipTraceId.traceId}; `;
  out += c.escape(f.Summary);
  if (f.authType !== AuthType.DISABLED) out += `; Auth: ${c.auth(enumName(AUTH_TYPE_NAMES, f.authType), f.authType === AuthType.TEST_ALWAYS_FAIL)}`;
  return out;
}

// Go's enum String(): the .proto value name, or the number for unknown values.
export function enumName(names: Readonly<Record<number, string>>, value: number): string {
  return names[value] ?? String(value);
}

export const VERDICT_NAMES: Readonly<Record<number, string>> = { 0: 'VERDICT_UNKNOWN', 1: 'FORWARDED', 2: 'DROPPED', 3: 'ERROR', 4: 'AUDIT', 5: 'REDIRECTED', 6: 'TRACED', 7: 'TRANSLATED' };
const TRAFFIC_DIRECTION_NAMES: Readonly<Record<number, string>> = { 0: 'TRAFFIC_DIRECTION_UNKNOWN', 1: 'INGRESS', 2: 'EGRESS' };
const L7_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'UNKNOWN_L7_TYPE', 1: 'REQUEST', 2: 'RESPONSE', 3: 'SAMPLE' };
const AUTH_TYPE_NAMES: Readonly<Record<number, string>> = { [AuthType.DISABLED]: 'DISABLED', [AuthType.SPIRE]: 'SPIRE', [AuthType.TEST_ALWAYS_FAIL]: 'TEST_ALWAYS_FAIL' };
const SOCK_XLATE_NAMES: Readonly<Record<number, string>> = { 0: 'SOCK_XLATE_POINT_UNKNOWN' };
const DEBUG_CAPTURE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(DebugCapturePoint).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]),
);
