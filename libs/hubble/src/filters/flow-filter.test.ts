import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { FlowFilterSchema, FlowSchema, DropReason, IPVersion, TrafficDirection, Verdict, type Flow } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { FilterError } from './filter-error.js';
import { compileFlowFilter, compileFlowSelection } from './flow-filter.js';

type FlowInit = MessageInitShape<typeof FlowSchema>;
type FilterInit = MessageInitShape<typeof FlowFilterSchema>;

const flow = (init: FlowInit): Flow => create(FlowSchema, init);
const matches = (filter: FilterInit, f: Flow) => compileFlowFilter(create(FlowFilterSchema, filter))(f);

const tcp = (sport: number, dport: number, flags: Record<string, boolean> = {}): FlowInit['l4'] => ({
  protocol: { case: 'TCP', value: { sourcePort: sport, destinationPort: dport, flags } },
});
const http = (init: { code?: number; method?: string; url?: string; headers?: { key: string; value: string }[] }): FlowInit['l7'] => ({
  record: { case: 'http', value: init },
});

// One table per filter kind: [description, filter, flow, expected].
type Case = [string, FilterInit, FlowInit, boolean];

const cases: Record<string, Case[]> = {
  'source_ip / destination_ip (exact or CIDR)': [
    ['exact source', { sourceIp: ['10.0.0.1'] }, { IP: { source: '10.0.0.1' } }, true],
    ['other source', { sourceIp: ['10.0.0.1'] }, { IP: { source: '10.0.0.2' } }, false],
    ['CIDR contains', { sourceIp: ['10.0.0.0/24'] }, { IP: { source: '10.0.0.77' } }, true],
    ['CIDR with host bits', { destinationIp: ['10.0.1.9/16'] }, { IP: { destination: '10.0.200.1' } }, true],
    ['CIDR excludes', { sourceIp: ['10.0.0.0/24'] }, { IP: { source: '10.0.1.1' } }, false],
    ['IPv6 CIDR', { destinationIp: ['fd00::/64'] }, { IP: { destination: 'fd00::42' } }, true],
    ['no IP at all', { sourceIp: ['10.0.0.1'] }, {}, false],
    ['OR within the field', { sourceIp: ['1.1.1.1', '10.0.0.0/8'] }, { IP: { source: '10.9.9.9' } }, true],
    ['xlated source', { sourceIpXlated: ['192.168.0.1'] }, { IP: { source: '10.0.0.1', sourceXlated: '192.168.0.1' } }, true],
  ],
  'pods and services ([ns/]prefix)': [
    ['namespace only', { sourcePod: ['kube-system/'] }, { source: { namespace: 'kube-system', podName: 'coredns-1' } }, true],
    ['namespace and prefix', { sourcePod: ['kube-system/coredns-'] }, { source: { namespace: 'kube-system', podName: 'coredns-1' } }, true],
    ['prefix mismatch', { sourcePod: ['kube-system/cilium-'] }, { source: { namespace: 'kube-system', podName: 'coredns-1' } }, false],
    ['bare prefix means default namespace', { destinationPod: ['xwing'] }, { destination: { namespace: 'default', podName: 'xwing-1' } }, true],
    ['leading slash means any namespace', { destinationPod: ['/xwing'] }, { destination: { namespace: 'empire', podName: 'xwing-1' } }, true],
    ['bare prefix in other namespace', { destinationPod: ['xwing'] }, { destination: { namespace: 'empire', podName: 'xwing-1' } }, false],
    ['endpoint without pod', { sourcePod: ['x/'] }, { source: { identity: 2 } }, false],
    ['service', { destinationService: ['default/web'] }, { destinationService: { namespace: 'default', name: 'web-svc' } }, true],
    ['service mismatch', { sourceService: ['default/web'] }, { sourceService: { namespace: 'other', name: 'web' } }, false],
  ],
  'labels (k8s selectors with sources)': [
    ['equality with source', { sourceLabel: ['k8s:app=web'] }, { source: { labels: ['k8s:app=web'] } }, true],
    ['source must match', { sourceLabel: ['k8s:app=web'] }, { source: { labels: ['container:app=web'] } }, false],
    ['no source matches any', { sourceLabel: ['app=web'] }, { source: { labels: ['container:app=web'] } }, true],
    ['any: source', { sourceLabel: ['any:app=web'] }, { source: { labels: ['k8s:app=web'] } }, true],
    ['reserved existence', { destinationLabel: ['reserved:world'] }, { destination: { labels: ['reserved:world'] } }, true],
    ['not-exists', { destinationLabel: ['!reserved:world'] }, { destination: { labels: ['reserved:host'] } }, true],
    ['set-based in', { sourceLabel: ['k8s:tier in (front, back)'] }, { source: { labels: ['k8s:tier=back'] } }, true],
    ['set-based notin', { sourceLabel: ['k8s:tier notin (front)'] }, { source: { labels: ['k8s:tier=front'] } }, false],
    ['AND within a selector', { sourceLabel: ['k8s:app=web,k8s:tier=db'] }, { source: { labels: ['k8s:app=web', 'k8s:tier=front'] } }, false],
    ['dotted key with source', { sourceLabel: ['k8s:io.kubernetes.pod.namespace=x'] }, { source: { labels: ['k8s:io.kubernetes.pod.namespace=x'] } }, true],
    ['inequality matches a missing key', { sourceLabel: ['k8s:app!=web'] }, { source: { labels: [] } }, true],
    // cases from upstream's label filter tests
    ['bare key exists with any value', { sourceLabel: ['label1', 'label2'] }, { source: { labels: ['label1=val1'] } }, true],
    ['bare key missing', { sourceLabel: ['label1', 'label2'] }, { source: { labels: ['label3'] } }, false],
    ['value with extra equals sign', { sourceLabel: ['label1=val1'] }, { source: { labels: ['label1=val1=toomuch'] } }, false],
    ['notin () selects all', { sourceLabel: ['label1 in (val1, val2), label3 notin ()'] }, { source: { labels: ['label1=val1', 'label3=val3'] } }, true],
    ['in needs a value', { sourceLabel: ['label1 in (val1, val2), label3 notin ()'] }, { source: { labels: ['label1'] } }, false],
    ['empty selector selects everything', { sourceLabel: [''] }, { source: { labels: [] } }, true],
    ['dotted flow label is not a source', { sourceLabel: ['k8s:app=bar'] }, { source: { labels: ['k8s.app=bar'] } }, false],
    ['any: matches reserved', { sourceLabel: ['any:key'] }, { source: { labels: ['reserved:key'] } }, true],
    ['node labels', { nodeLabels: ['kubernetes.io/hostname=k8s1'] }, { nodeLabels: ['kubernetes.io/hostname=k8s1'] }, true],
  ],
  'fqdn (wildcards) and dns_query (regex)': [
    ['exact name, trailing dot ignored', { destinationFqdn: ['cilium.io.'] }, { destinationNames: ['cilium.io'] }, true],
    ['wildcard', { destinationFqdn: ['*.cilium.io'] }, { destinationNames: ['docs.cilium.io'] }, true],
    ['wildcard spans dots', { destinationFqdn: ['*.io'] }, { destinationNames: ['a.b.io'] }, true],
    ['wildcard mismatch', { sourceFqdn: ['*.cilium.io'] }, { sourceNames: ['cilium.com'] }, false],
    ['case-insensitive pattern', { sourceFqdn: ['Cilium.IO'] }, { sourceNames: ['cilium.io'] }, true],
    ['no names', { sourceFqdn: ['*'] }, {}, false],
    ['dns query regex', { dnsQuery: ['.*\\.svc\\.cluster\\.local\\.$'] }, { l7: { record: { case: 'dns', value: { query: 'kube-dns.kube-system.svc.cluster.local.' } } } }, true],
    ['dns query needs a DNS record', { dnsQuery: ['.*'] }, { l7: http({ code: 200 }) }, false],
  ],
  'ports and protocols': [
    ['destination port', { destinationPort: ['80'] }, { l4: tcp(31000, 80) }, true],
    ['source port mismatch', { sourcePort: ['80'] }, { l4: tcp(31000, 80) }, false],
    ['UDP port', { destinationPort: ['53'] }, { l4: { protocol: { case: 'UDP', value: { sourcePort: 1000, destinationPort: 53 } } } }, true],
    ['ICMP has no port', { destinationPort: ['0'] }, { l4: { protocol: { case: 'ICMPv4', value: { type: 8 } } } }, false],
    ['protocol is case-insensitive', { protocol: ['TCP'] }, { l4: tcp(1, 2) }, true],
    ['icmp covers v4 and v6', { protocol: ['icmp'] }, { l4: { protocol: { case: 'ICMPv6', value: { type: 128 } } } }, true],
    ['icmpv4 does not cover v6', { protocol: ['icmpv4'] }, { l4: { protocol: { case: 'ICMPv6', value: { type: 128 } } } }, false],
    ['l7 protocol', { protocol: ['http'] }, { l7: http({ code: 200 }) }, true],
    ['sctp', { protocol: ['sctp'] }, { l4: { protocol: { case: 'SCTP', value: { destinationPort: 9 } } } }, true],
  ],
  'verdict, direction, drop reason, ip version, identity': [
    ['verdict', { verdict: [Verdict.DROPPED] }, { verdict: Verdict.DROPPED }, true],
    ['verdict OR', { verdict: [Verdict.FORWARDED, Verdict.AUDIT] }, { verdict: Verdict.DROPPED }, false],
    ['direction', { trafficDirection: [TrafficDirection.EGRESS] }, { trafficDirection: TrafficDirection.EGRESS }, true],
    ['drop reason', { dropReasonDesc: [DropReason.POLICY_DENIED] }, { dropReasonDesc: DropReason.POLICY_DENIED }, true],
    ['ip version', { ipVersion: [IPVersion.IPv6] }, { IP: { ipVersion: IPVersion.IPv4 } }, false],
    ['source identity', { sourceIdentity: [12345] }, { source: { identity: 12345 } }, true],
    ['destination identity', { destinationIdentity: [2] }, { destination: { identity: 1 } }, false],
  ],
  'event type and sub type': [
    ['type only', { eventType: [{ type: 4 }] }, { eventType: { type: 4, subType: 3 } }, true],
    ['sub type must match when asked', { eventType: [{ type: 4, matchSubType: true, subType: 0 }] }, { eventType: { type: 4, subType: 3 } }, false],
    ['sub type 0 is a value', { eventType: [{ type: 4, matchSubType: true, subType: 0 }] }, { eventType: { type: 4, subType: 0 } }, true],
    ['no event type on the flow', { eventType: [{ type: 1 }] }, {}, false],
  ],
  'reply (is_reply)': [
    ['reply true', { reply: [true] }, { isReply: true }, true],
    ['reply false', { reply: [false] }, { isReply: false }, true],
    ['unknown is never matched', { reply: [false] }, { verdict: Verdict.FORWARDED }, false],
    ['unknown drop counts as not a reply', { reply: [false] }, { verdict: Verdict.DROPPED }, true],
  ],
  'TCP flags (every flag of a filter entry set)': [
    ['SYN filter, SYN+ACK flow', { tcpFlags: [{ SYN: true }] }, { l4: tcp(1, 2, { SYN: true, ACK: true }) }, true],
    ['SYN+ACK filter, SYN flow', { tcpFlags: [{ SYN: true, ACK: true }] }, { l4: tcp(1, 2, { SYN: true }) }, false],
    ['OR across entries', { tcpFlags: [{ FIN: true }, { RST: true }] }, { l4: tcp(1, 2, { RST: true }) }, true],
    ['not TCP', { tcpFlags: [{ SYN: true }] }, { l4: { protocol: { case: 'UDP', value: {} } } }, false],
  ],
  'node name ([cluster/]node globs)': [
    ['plain glob', { nodeName: ['k8s*'] }, { nodeName: 'k8s1' }, true],
    ['glob does not match other node', { nodeName: ['k8s*'] }, { nodeName: 'worker1' }, false],
    ['cluster prefix, default cluster implied', { nodeName: ['default/k8s1'] }, { nodeName: 'k8s1' }, true],
    ['whole cluster', { nodeName: ['prod/'] }, { nodeName: 'prod/node-a.example.com' }, true],
    ['other cluster', { nodeName: ['prod/'] }, { nodeName: 'k8s1' }, false],
    ['empty node name', { nodeName: ['*'] }, {}, false],
    ['slash alone matches every node', { nodeName: ['/'] }, { nodeName: 'k8s1' }, true],
    ['cluster wildcard', { nodeName: ['cluster-*/k8s1'] }, { nodeName: 'cluster-1/k8s1' }, true],
    ['cluster wildcard, default cluster', { nodeName: ['cluster-*/k8s1'] }, { nodeName: 'k8s1' }, false],
    ['node wildcard spans labels', { nodeName: ['cluster-name/*.com'] }, { nodeName: 'cluster-name/foo.bar.com' }, true],
    ['node wildcard anchored', { nodeName: ['cluster-name/*.com'] }, { nodeName: 'cluster-name/foo.com.org' }, false],
  ],
  'HTTP (status, method, path, url, header)': [
    ['full status', { httpStatusCode: ['404'] }, { l7: http({ code: 404 }) }, true],
    ['class prefix', { httpStatusCode: ['4+'] }, { l7: http({ code: 418 }) }, true],
    ['two-digit prefix', { httpStatusCode: ['40+'] }, { l7: http({ code: 418 }) }, false],
    ['requests (code 0) never match status', { httpStatusCode: ['2+'] }, { l7: http({ method: 'GET' }) }, false],
    ['method case-insensitive', { httpMethod: ['get'] }, { l7: http({ method: 'GET' }) }, true],
    ['path regex on the path only', { httpPath: ['^/api/v[0-9]+$'] }, { l7: http({ url: 'http://web/api/v1?x=1' }) }, true],
    ['path regex mismatch', { httpPath: ['^/admin'] }, { l7: http({ url: 'http://web/api' }) }, false],
    ['url regex', { httpUrl: ['^http://web/'] }, { l7: http({ url: 'http://web/api' }) }, true],
    ['header key and value', { httpHeader: [{ key: 'X-Token', value: '42' }] }, { l7: http({ headers: [{ key: 'X-Token', value: '42' }] }) }, true],
    ['header key only', { httpHeader: [{ key: 'X-Token' }] }, { l7: http({ headers: [{ key: 'X-Token', value: 'x' }] }) }, true],
    ['header value mismatch', { httpHeader: [{ key: 'X-Token', value: '1' }] }, { l7: http({ headers: [{ key: 'X-Token', value: '2' }] }) }, false],
  ],
  'workload, cluster, interface, tracing, uuid, encryption': [
    ['workload name', { sourceWorkload: [{ name: 'web' }] }, { source: { workloads: [{ name: 'web', kind: 'Deployment' }] } }, true],
    ['workload kind mismatch', { destinationWorkload: [{ kind: 'DaemonSet' }] }, { destination: { workloads: [{ name: 'web', kind: 'Deployment' }] } }, false],
    ['cluster name', { sourceClusterName: ['c1'] }, { source: { clusterName: 'c1' } }, true],
    ['interface by name', { interface: [{ name: 'eth0' }] }, { interface: { index: 2, name: 'eth0' } }, true],
    ['interface by index', { interface: [{ index: 3 }] }, { interface: { index: 2, name: 'eth0' } }, false],
    ['trace id', { traceId: ['abc'] }, { traceContext: { parent: { traceId: 'abc' } } }, true],
    ['ip trace id', { ipTraceId: [7n] }, { ipTraceId: { traceId: 7n } }, true],
    ['uuid', { uuid: ['u-1'] }, { uuid: 'u-1' }, true],
    ['encrypted', { encrypted: [true] }, { IP: { encrypted: false } }, false],
  ],
  'AND across fields': [
    ['both match', { sourcePod: ['x/'], destinationPort: ['80'] }, { source: { namespace: 'x', podName: 'a' }, l4: tcp(1, 80) }, true],
    ['one fails', { sourcePod: ['x/'], destinationPort: ['81'] }, { source: { namespace: 'x', podName: 'a' }, l4: tcp(1, 80) }, false],
    ['empty filter matches everything', {}, {}, true],
  ],
};

describe('compileFlowFilter', () => {
  for (const [kind, table] of Object.entries(cases)) {
    describe(kind, () => {
      it.each(table)('%s', (_name, filter, f, expected) => {
        expect(matches(filter, flow(f))).toBe(expected);
      });
    });
  }

  it.each<[string, FilterInit, string]>([
    ['bad IP', { sourceIp: ['10.0.0.300'] }, 'filter.source_ip[0]: invalid IP address "10.0.0.300"'],
    ['bad CIDR', { destinationIp: ['10.0.0.0/33'] }, 'filter.destination_ip[0]: invalid CIDR "10.0.0.0/33"'],
    ['bad pod', { sourcePod: [''] }, 'filter.source_pod[0]: must be [namespace/][<name>], got ""'],
    ['bad port', { destinationPort: ['http'] }, 'filter.destination_port[0]: invalid port "http"'],
    ['bad protocol', { protocol: ['tcp', 'quic'] }, 'filter.protocol[1]: unknown protocol "quic"'],
    ['bad status', { httpStatusCode: ['6+'] }, 'filter.http_status_code[0]: invalid status code prefix "6+"'],
    ['http with a non-l7 event type', { httpMethod: ['GET'], eventType: [{ type: 4 }] }, "filter.http_method: filtering by HTTP fields requires the event type filter to match 'l7' events"],
    ['bad fqdn', { destinationFqdn: ['a b'] }, 'filter.destination_fqdn[0]: " ": invalid rune in pattern: "a b"'],
    ['bad node pattern', { nodeName: ['a/b/c'] }, 'filter.node_name[0]: too many slashes in pattern: "a/b/c"'],
    ['bad label selector', { sourceLabel: ['()'] }, 'filter.source_label[0]: invalid label selector "()": invalid label key "()"'],
    ['label key with two sources', { destinationLabel: ['any:k8s:bla'] }, 'filter.destination_label[0]: invalid label selector "any:k8s:bla": invalid label key "any:k8s:bla"'],
    ['bad regex', { dnsQuery: ['('] }, 'filter.dns_query[0]: invalid regular expression "("'],
    ['empty cluster', { destinationClusterName: [''] }, 'filter.destination_cluster_name[0]: cluster name must not be empty'],
  ])('rejects %s with the field and the reason', (_name, filter, message) => {
    const compile = () => compileFlowFilter(create(FlowFilterSchema, filter));
    expect(compile).toThrow(FilterError);
    expect(compile).toThrow(message);
  });
});

describe('compileFlowSelection (whitelist and blacklist)', () => {
  const web = flow({ source: { namespace: 'x', podName: 'web' }, verdict: Verdict.FORWARDED });
  const dropped = flow({ source: { namespace: 'x', podName: 'db' }, verdict: Verdict.DROPPED });
  const other = flow({ source: { namespace: 'y', podName: 'web' }, verdict: Verdict.FORWARDED });
  const f = (init: FilterInit) => create(FlowFilterSchema, init);

  it('passes everything with empty lists', () => {
    const keep = compileFlowSelection([], []);
    expect([web, dropped, other].map(keep)).toEqual([true, true, true]);
  });

  it('ORs the filters of a whitelist', () => {
    const keep = compileFlowSelection([f({ sourcePod: ['y/'] }), f({ verdict: [Verdict.DROPPED] })], []);
    expect([web, dropped, other].map(keep)).toEqual([false, true, true]);
  });

  it('keeps whitelist matches unless a blacklist filter matches', () => {
    const keep = compileFlowSelection([f({ sourcePod: ['x/'] })], [f({ verdict: [Verdict.DROPPED] })]);
    expect([web, dropped, other].map(keep)).toEqual([true, false, false]);
  });

  it('names the list in errors', () => {
    expect(() => compileFlowSelection([], [f({}), f({ sourceIp: ['nope'] })])).toThrow('blacklist[1].source_ip[0]: invalid IP address "nope"');
  });
});
