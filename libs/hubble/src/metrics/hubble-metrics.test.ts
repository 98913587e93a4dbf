import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { DropReason, FlowSchema, IPVersion, LostEventSource, TrafficDirection, Verdict, type Flow } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { MetricsOptionError } from './context-options.js';
import { HubbleMetrics, parseMetricsSpecs } from './hubble-metrics.js';

type FlowInit = Exclude<MessageInitShape<typeof FlowSchema>, Flow>;
const flow = (init: FlowInit) => create(FlowSchema, init);

const web = { identity: 20001, namespace: 'x', podName: 'web-7d4f9-abcde', labels: ['k8s:app=web'], workloads: [{ name: 'web', kind: 'Deployment' }] };
const db = { identity: 20002, namespace: 'y', podName: 'db-0', labels: ['k8s:app.kubernetes.io/name=db'] };
const tcp = (dport: number, flags: Record<string, boolean>): FlowInit['l4'] => ({ protocol: { case: 'TCP', value: { sourcePort: 40000, destinationPort: dport, flags } } });

const synInit: FlowInit = {
  verdict: Verdict.FORWARDED,
  IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: IPVersion.IPv4 },
  l4: tcp(5432, { SYN: true }),
  source: web,
  destination: db,
  eventType: { type: 4, subType: 0 },
  isReply: false,
  trafficDirection: TrafficDirection.EGRESS,
};
const forwardedSyn = flow(synInit);
const drop = flow({
  verdict: Verdict.DROPPED,
  dropReasonDesc: DropReason.POLICY_DENIED,
  IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: IPVersion.IPv4 },
  l4: tcp(5432, { SYN: true }),
  source: web,
  destination: db,
  eventType: { type: 1, subType: 133 },
});

async function exposition(metrics: HubbleMetrics): Promise<string> {
  return metrics.registry.metrics();
}

describe('parseMetricsSpecs', () => {
  it('parses handler names and their options', () => {
    const specs = parseMetricsSpecs('dns:query;ignoreAAAA drop tcp flow port-distribution icmp httpV2:exemplars=true;labelsContext=source_namespace');
    expect(specs.map((s) => s.name)).toEqual(['dns', 'drop', 'tcp', 'flow', 'port-distribution', 'icmp', 'httpV2']);
    expect([...(specs[0]?.options ?? [])]).toEqual([['query', ''], ['ignoreAAAA', '']]);
    expect(specs[6]?.options.get('labelsContext')).toBe('source_namespace');
  });

  it('refuses unknown handlers and contexts with the reason', () => {
    expect(() => parseMetricsSpecs('flows')).toThrow('--hubble-metrics: unknown handler "flows"');
    expect(() => new HubbleMetrics('drop:sourceContext=pods')).toThrow(MetricsOptionError);
    expect(() => new HubbleMetrics('drop:sourceContext=pods')).toThrow('drop: sourceContext: unknown context "pods"');
    expect(() => new HubbleMetrics('flow:labelsContext=source_nope')).toThrow('flow: labelsContext: invalid value "source_nope"');
  });
});

describe('HubbleMetrics exposition', () => {
  it('counts processed flows with protocol, type, subtype and verdict', async () => {
    const m = new HubbleMetrics('flow');
    m.processFlow(forwardedSyn);
    m.processFlow(forwardedSyn);
    m.processFlow(drop);
    const text = await exposition(m);
    expect(text).toContain('# HELP hubble_flows_processed_total Total number of flows processed\n# TYPE hubble_flows_processed_total counter\n');
    expect(text).toContain('hubble_flows_processed_total{protocol="TCP",type="Trace",subtype="to-endpoint",verdict="FORWARDED"} 2\n');
    expect(text).toContain('hubble_flows_processed_total{protocol="TCP",type="Drop",subtype="",verdict="DROPPED"} 1\n');
  });

  it('counts drops by reason and protocol, with context labels first', async () => {
    const m = new HubbleMetrics('drop:sourceContext=pod;destinationContext=namespace');
    m.processFlow(drop);
    m.processFlow(forwardedSyn);
    const text = await exposition(m);
    expect(text).toContain('hubble_drop_total{source="x/web-7d4f9-abcde",destination="y",reason="POLICY_DENIED",protocol="TCP"} 1\n');
    expect(text).not.toContain('FORWARDED');
  });

  it('uses the first non-empty context and the app/workload contexts', async () => {
    const m = new HubbleMetrics('tcp:sourceContext=dns|workload-name;destinationContext=app');
    m.processFlow(forwardedSyn);
    expect(await exposition(m)).toContain('hubble_tcp_flags_total{flag="SYN",family="IPv4",source="web",destination="db"} 1\n');
  });

  it('adds labelsContext labels in upstream order', async () => {
    const m = new HubbleMetrics('port-distribution:labelsContext=traffic_direction,source_namespace,destination_pod');
    m.processFlow(forwardedSyn);
    m.processFlow(flow({ ...synInit, isReply: true }));
    const text = await exposition(m);
    expect(text).toContain('hubble_port_distribution_total{protocol="TCP",port="5432",source_namespace="x",destination_pod="db-0",traffic_direction="egress"} 1\n');
  });

  it('counts SYN-ACK, FIN and RST, only for forwarded flows', async () => {
    const m = new HubbleMetrics('tcp');
    m.processFlow(flow({ ...synInit, l4: tcp(1, { SYN: true, ACK: true }) }));
    m.processFlow(flow({ ...synInit, l4: tcp(1, { FIN: true, ACK: true }) }));
    m.processFlow(flow({ ...synInit, l4: tcp(1, { RST: true }) }));
    m.processFlow(drop);
    const text = await exposition(m);
    expect(text).toContain('hubble_tcp_flags_total{flag="SYN-ACK",family="IPv4"} 1\n');
    expect(text).toContain('hubble_tcp_flags_total{flag="FIN",family="IPv4"} 1\n');
    expect(text).toContain('hubble_tcp_flags_total{flag="RST",family="IPv4"} 1\n');
    expect(text).not.toContain('flag="SYN"');
  });

  it('counts ICMP by family and type text', async () => {
    const m = new HubbleMetrics('icmp');
    m.processFlow(flow({ l4: { protocol: { case: 'ICMPv4', value: { type: 8, code: 0 } } } }));
    expect(await exposition(m)).toContain('hubble_icmp_total{family="IPv4",type="EchoRequest"} 1\n');
  });

  it('counts policy verdicts, skipping the host identity', async () => {
    const m = new HubbleMetrics('policy');
    const verdict: FlowInit = { ...synInit, eventType: { type: 5 }, policyMatchType: 2, trafficDirection: TrafficDirection.INGRESS };
    m.processFlow(flow(verdict));
    m.processFlow(flow({ ...verdict, source: { identity: 1 } }));
    m.processFlow(flow({ ...verdict, verdict: Verdict.DROPPED, policyMatchType: 0 }));
    const text = await exposition(m);
    expect(text).toContain('hubble_policy_verdicts_total{direction="ingress",match="l3-l4",action="forwarded"} 1\n');
    expect(text).toContain('hubble_policy_verdicts_total{direction="ingress",match="none",action="dropped"} 1\n');
  });

  it('counts DNS queries and responses and HTTP (v2) responses with durations', async () => {
    const m = new HubbleMetrics('dns:query httpV2');
    const dns = (isReply: boolean, rcode = 0): FlowInit => ({
      l7: { type: isReply ? 2 : 1, record: { case: 'dns', value: { query: 'db.y.svc.cluster.local.', qtypes: ['A'], ips: isReply ? ['10.0.2.7'] : [], rcode, rrtypes: isReply ? ['A'] : [] } } },
      isReply,
      verdict: Verdict.FORWARDED,
    });
    m.processFlow(flow(dns(false)));
    m.processFlow(flow(dns(true)));
    m.processFlow(flow({ l7: { type: 2, latencyNs: 12_000_000n, record: { case: 'http', value: { code: 200, method: 'GET', protocol: 'HTTP/1.1' } } }, trafficDirection: TrafficDirection.EGRESS }));
    const text = await exposition(m);
    expect(text).toContain('hubble_dns_queries_total{rcode="",qtypes="A",ips_returned="0",query="db.y.svc.cluster.local."} 1\n');
    expect(text).toContain('hubble_dns_responses_total{rcode="No Error",qtypes="A",ips_returned="1",query="db.y.svc.cluster.local."} 1\n');
    expect(text).toContain('hubble_dns_response_types_total{type="A",qtypes="A",query="db.y.svc.cluster.local."} 1\n');
    expect(text).toContain('hubble_http_requests_total{method="GET",protocol="HTTP/1.1",status="200",reporter="client"} 1\n');
    expect(text).toContain('hubble_http_request_duration_seconds_bucket{le="0.025",method="GET",reporter="client"} 1\n');
  });

  it('always exposes lost events by source', async () => {
    const m = new HubbleMetrics('');
    m.recordLostEvents(LostEventSource.HUBBLE_RING_BUFFER, 3);
    expect(await exposition(m)).toContain('hubble_lost_events_total{source="hubble_ring_buffer"} 3\n');
  });
});
