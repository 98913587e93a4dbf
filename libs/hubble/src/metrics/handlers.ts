import { DropReasonSchema, L7FlowType, TrafficDirection, Verdict, type Flow } from '@cilium-ts/proto';
import { MessageType, policyMatchTypeName, traceObservationPointName } from '../monitor/monitor-api.js';
import { VERDICT_NAMES, enumName } from '../printer/flow-text.js';
import { icmpv4TypeCode, icmpv6TypeCode } from '../parser/icmp-names.js';
import { flowProtocol } from './flow-protocol.js';
import type { FlowMetricsHandler, HandlerContext } from './handler.js';

/** The flow metric handlers of upstream Hubble, by their `--hubble-metrics` names. */

const verdictName = (v: Verdict) => enumName(VERDICT_NAMES, v);
const isForwarded = (f: Flow) => f.verdict === Verdict.FORWARDED || f.verdict === Verdict.REDIRECTED;

export function flowHandler(h: HandlerContext): FlowMetricsHandler {
  const flows = h.counter('flows_processed_total', 'Total number of flows processed', ['protocol', 'type', 'subtype', 'verdict', ...h.contextLabelNames]);
  return {
    name: 'flow',
    processFlow(f) {
      let type: string;
      let subtype = '';
      const t = f.eventType?.type ?? 0;
      switch (t) {
        case MessageType.accessLog:
          type = 'L7';
          subtype = f.l7?.record.case === 'dns' ? 'DNS' : f.l7?.record.case === 'http' ? 'HTTP' : f.l7?.record.case === 'kafka' ? 'Kafka' : '';
          break;
        case MessageType.drop:
          type = 'Drop';
          break;
        case MessageType.capture:
          type = 'Capture';
          break;
        case MessageType.trace:
          type = 'Trace';
          subtype = traceObservationPointName((f.eventType?.subType ?? 0) & 0xff);
          break;
        case MessageType.policyVerdict:
          type = 'PolicyVerdict';
          break;
        default:
          type = 'Unknown';
          subtype = String(t);
      }
      flows.labels(flowProtocol(f), type, subtype, verdictName(f.verdict), ...h.contextValues(f)).inc();
    },
  };
}

export function dropHandler(h: HandlerContext): FlowMetricsHandler {
  const drops = h.counter('drop_total', 'Number of drops', [...h.contextLabelNames, 'reason', 'protocol']);
  return {
    name: 'drop',
    processFlow(f) {
      if (f.verdict !== Verdict.DROPPED) return;
      drops.labels(...h.contextValues(f), DropReasonSchema.value[f.dropReasonDesc]?.name ?? String(f.dropReasonDesc), flowProtocol(f)).inc();
    },
  };
}

export function tcpHandler(h: HandlerContext): FlowMetricsHandler {
  const tcpFlags = h.counter('tcp_flags_total', 'TCP flag occurrences', ['flag', 'family', ...h.contextLabelNames]);
  return {
    name: 'tcp',
    processFlow(f) {
      if (!isForwarded(f) || !f.IP) return;
      const p = f.l4?.protocol;
      if (p?.case !== 'TCP' || !p.value.flags) return;
      const flags = p.value.flags;
      const family = f.IP.ipVersion === 1 ? 'IPv4' : f.IP.ipVersion === 2 ? 'IPv6' : 'IP_NOT_USED';
      const ctx = h.contextValues(f);
      if (flags.FIN) tcpFlags.labels('FIN', family, ...ctx).inc();
      if (flags.SYN) tcpFlags.labels(flags.ACK ? 'SYN-ACK' : 'SYN', family, ...ctx).inc();
      if (flags.RST) tcpFlags.labels('RST', family, ...ctx).inc();
    },
  };
}

export function portDistributionHandler(h: HandlerContext): FlowMetricsHandler {
  const ports = h.counter('port_distribution_total', 'Numbers of packets distributed by destination port', ['protocol', 'port', ...h.contextLabelNames]);
  return {
    name: 'port-distribution',
    processFlow(f) {
      // Replies and flows of unknown direction would count the client's ephemeral port.
      if (!isForwarded(f) || !f.l4 || f.isReply !== false) return;
      const p = f.l4.protocol;
      const ctx = h.contextValues(f);
      if (p.case === 'TCP' || p.case === 'UDP' || p.case === 'SCTP') ports.labels(p.case, String(p.value.destinationPort), ...ctx).inc();
      else if (p.case === 'ICMPv4' || p.case === 'ICMPv6') ports.labels(p.case, '0', ...ctx).inc();
    },
  };
}

export function icmpHandler(h: HandlerContext): FlowMetricsHandler {
  const icmp = h.counter('icmp_total', 'Number of ICMP messages', ['family', 'type', ...h.contextLabelNames]);
  return {
    name: 'icmp',
    processFlow(f) {
      const p = f.l4?.protocol;
      if (p?.case === 'ICMPv4') icmp.labels('IPv4', icmpv4TypeCode(p.value.type, p.value.code), ...h.contextValues(f)).inc();
      // Upstream labels ICMPv6 with family "IPv4" as well; kept for dashboard compatibility.
      else if (p?.case === 'ICMPv6') icmp.labels('IPv4', icmpv6TypeCode(p.value.type, p.value.code), ...h.contextValues(f)).inc();
    },
  };
}

const HOST_IDENTITY = 1;
const HEALTH_IDENTITY = 4;

export function policyHandler(h: HandlerContext): FlowMetricsHandler {
  const verdicts = h.counter('policy_verdicts_total', 'Total number of Cilium network policy verdicts', ['direction', 'match', 'action', ...h.contextLabelNames]);
  const direction = (f: Flow) => (f.trafficDirection === TrafficDirection.INGRESS ? 'ingress' : f.trafficDirection === TrafficDirection.EGRESS ? 'egress' : 'traffic_direction_unknown');
  return {
    name: 'policy',
    processFlow(f) {
      const t = f.eventType?.type;
      if (t === MessageType.policyVerdict) {
        // The host and health checks may reach any local endpoint; their verdicts are noise.
        const src = f.source?.identity;
        if (src === HOST_IDENTITY || src === HEALTH_IDENTITY) return;
        verdicts.labels(direction(f), policyMatchTypeName(f.policyMatchType).toLowerCase(), verdictName(f.verdict).toLowerCase(), ...h.contextValues(f)).inc();
      } else if (t === MessageType.accessLog) {
        const rec = f.l7?.record.case;
        const sub = rec === 'dns' ? 'dns' : rec === 'http' ? 'http' : rec === 'kafka' ? 'kafka' : '';
        verdicts.labels(direction(f), `l7/${sub}`, verdictName(f.verdict).toLowerCase(), ...h.contextValues(f)).inc();
      }
    },
  };
}

const rcodeNames: Readonly<Record<number, string>> = {
  0: 'No Error',
  1: 'Format Error',
  2: 'Server Failure',
  3: 'Non-Existent Domain',
  4: 'Not Implemented',
  5: 'Query Refused',
  6: 'Name Exists when it should not',
  7: 'RR Set Exists when it should not',
  8: 'RR Set that should exist does not',
  9: 'Not Authorized',
  10: 'Name not contained in zone',
  11: 'DSO-TYPE Not Implemented',
  16: 'Bad OPT Version',
  17: 'Key not recognized',
  18: 'Signature out of time window',
  19: 'Bad TKEY Mode',
  20: 'Duplicate key name',
  21: 'Algorithm not supported',
  22: 'Bad Truncation',
  23: 'Bad/missing Server Cookie',
};

export function dnsHandler(h: HandlerContext): FlowMetricsHandler {
  let includeQuery = false;
  let ignoreAAAA = false;
  for (const key of h.options.keys()) {
    if (key.toLowerCase() === 'query') includeQuery = true;
    if (key.toLowerCase() === 'ignoreaaaa') ignoreAAAA = true;
  }
  const ctx = h.contextLabelNames;
  const queryLabel = includeQuery ? ['query'] : [];
  const queries = h.counter('dns_queries_total', 'Number of DNS queries observed', [...ctx, 'rcode', 'qtypes', 'ips_returned', ...queryLabel]);
  const responses = h.counter('dns_responses_total', 'Number of DNS queries observed', [...ctx, 'rcode', 'qtypes', 'ips_returned', ...queryLabel]);
  const types = h.counter('dns_response_types_total', 'Number of DNS queries observed', [...ctx, 'type', 'qtypes', ...queryLabel]);
  return {
    name: 'dns',
    processFlow(f) {
      const rec = f.l7?.record;
      if (rec?.case !== 'dns') return;
      const dns = rec.value;
      if (ignoreAAAA && dns.qtypes.length === 1 && dns.qtypes[0] === 'AAAA') return;
      const c = h.contextValues(f);
      const qtypes = dns.qtypes.join(',');
      const ips = String(dns.ips.length);
      const q = includeQuery ? [dns.query] : [];
      if (f.verdict === Verdict.DROPPED) queries.labels(...c, 'Policy denied', qtypes, ips, ...q).inc();
      else if (f.isReply !== true) queries.labels(...c, '', qtypes, ips, ...q).inc();
      else {
        responses.labels(...c, rcodeNames[dns.rcode] ?? '', qtypes, ips, ...q).inc();
        for (const rr of dns.rrtypes) types.labels(...c, rr, qtypes, ...q).inc();
      }
    },
  };
}

export function httpHandler(h: HandlerContext, v2: boolean): FlowMetricsHandler {
  const ctx = h.contextLabelNames;
  const reporter = (f: Flow) => (f.trafficDirection === TrafficDirection.EGRESS ? 'client' : f.trafficDirection === TrafficDirection.INGRESS ? 'server' : 'unknown');
  const requests = h.counter('http_requests_total', 'Count of HTTP requests', v2 ? [...ctx, 'method', 'protocol', 'status', 'reporter'] : [...ctx, 'method', 'protocol', 'reporter']);
  const responses = v2 ? undefined : h.counter('http_responses_total', 'Count of HTTP responses', [...ctx, 'method', 'protocol', 'status', 'reporter']);
  const duration = h.histogram('http_request_duration_seconds', 'Quantiles of HTTP request duration in seconds', [...ctx, 'method', 'reporter']);
  return {
    name: v2 ? 'httpV2' : 'http',
    processFlow(f) {
      const l7 = f.l7;
      if (l7?.record.case !== 'http') return;
      const http = l7.record.value;
      const seconds = Number(l7.latencyNs) / 1e9;
      if (v2) {
        // Counted on responses, labelled from the requester's side.
        if (l7.type !== L7FlowType.RESPONSE) return;
        const c = h.contextValues(f, true);
        requests.labels(...c, http.method, http.protocol, String(http.code), reporter(f)).inc();
        duration.labels(...c, http.method, reporter(f)).observe(seconds);
        return;
      }
      const c = h.contextValues(f);
      if (l7.type === L7FlowType.REQUEST) requests.labels(...c, http.method, http.protocol, reporter(f)).inc();
      else if (l7.type === L7FlowType.RESPONSE) {
        responses?.labels(...c, http.method, http.protocol, String(http.code), reporter(f)).inc();
        duration.labels(...c, http.method, reporter(f)).observe(seconds);
      }
    },
  };
}
