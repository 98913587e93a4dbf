import {
  DropReason,
  FlowType,
  IPVersion,
  TraceObservationPoint,
  TraceReason,
  TrafficDirection,
  Verdict,
} from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { FlowPrinter } from '../printer/printer.js';
import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FlowSchema, GetFlowsResponseSchema, type Flow } from '@cilium-ts/proto';
import { FlowBuilder, type DatapathEvent, type EndpointInfo, type FlowLookups } from './flow-builder.js';
import { craftPacket } from './test-packets.js';

// Node k8s1 hosts x/a (10.0.1.5, endpoint 1234, identity 20001); y/b (10.0.2.7) is remote.
const client: EndpointInfo = {
  id: 1234,
  identity: 20001,
  namespace: 'x',
  podName: 'a',
  labels: ['k8s:io.kubernetes.pod.namespace=x', 'k8s:app=a'],
  workloads: [{ name: 'a', kind: 'Deployment' }],
};
const identities: Record<number, string[]> = {
  2: ['reserved:world'],
  20001: client.labels as string[],
  20002: ['k8s:io.kubernetes.pod.namespace=y', 'k8s:app=b'],
  16777217: ['cidr:10.0.0.0/8', 'cidr:10.0.0.0/24', 'reserved:world', 'cidr:10.0.0.0/16'],
};
const lookups: FlowLookups = {
  lookupEndpointByIp: (ip) => (ip === '10.0.1.5' ? client : undefined),
  lookupIdentity: (id) => (identities[id] ? { labels: identities[id] } : undefined),
  lookupIpcache: (ip) => (ip === '10.0.2.7' ? { identity: 20002, namespace: 'y', podName: 'b' } : undefined),
  lookupNames: (_ep, ip) => (ip === '93.184.216.34' ? ['example.com'] : []),
  lookupService: (ip, port) => (ip === '10.96.0.10' && port === 53 ? { name: 'kube-dns', namespace: 'kube-system' } : undefined),
  lookupInterfaceName: (i) => (i === 7 ? 'lxc1234' : undefined),
};
const builder = new FlowBuilder(lookups, { nodeName: 'k8s1', version: '1.19.4-ts' });

const syn = craftPacket({ src: '10.0.1.5', dst: '10.0.2.7', l4: { tcp: { sport: 40000, dport: 80, flags: ['SYN'] } } });
const synAck = craftPacket({ src: '10.0.2.7', dst: '10.0.1.5', l4: { tcp: { sport: 80, dport: 40000, flags: ['SYN', 'ACK'] } } });

const event = (over: Partial<DatapathEvent>): DatapathEvent => ({
  type: 'trace',
  timestamp: Date.UTC(2026, 0, 1, 0, 20, 34, 567),
  subType: 0,
  sourceEndpointId: 0,
  sourceIdentity: 0,
  destinationIdentity: 0,
  ifindex: 0,
  packet: syn,
  ...over,
});

function compact(flow: Flow): string {
  let out = '';
  new FlowPrinter({ output: 'compact' }, { write: (t: string) => (out += t) }).write(create(GetFlowsResponseSchema, { responseTypes: { case: 'flow', value: flow } }));
  return out;
}

describe('FlowBuilder', () => {
  it('builds a policy drop at the sending endpoint: DROPPED, reason, egress, endpoints from agent and ipcache', () => {
    const f = builder.build(event({ type: 'drop', subType: 133, sourceEndpointId: 1234, sourceIdentity: 20001, destinationIdentity: 20002 }));
    expect(f.verdict).toBe(Verdict.DROPPED);
    expect(f.dropReason).toBe(133);
    expect(f.dropReasonDesc).toBe(DropReason.POLICY_DENIED);
    expect(f.trafficDirection).toBe(TrafficDirection.EGRESS);
    expect(f.isReply).toBeUndefined();
    expect(f.eventType).toMatchObject({ type: 1, subType: 133 });
    expect(f.Type).toBe(FlowType.L3_L4);
    expect(f.nodeName).toBe('k8s1');
    expect(f.emitter).toMatchObject({ name: 'Hubble', version: '1.19.4-ts' });
    expect(f.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(f.source).toMatchObject({ ID: 1234, identity: 20001, namespace: 'x', podName: 'a', labels: ['k8s:app=a', 'k8s:io.kubernetes.pod.namespace=x'] });
    expect(f.source?.workloads).toEqual([expect.objectContaining({ name: 'a', kind: 'Deployment' })]);
    expect(f.destination).toMatchObject({ ID: 0, identity: 20002, namespace: 'y', podName: 'b', labels: ['k8s:app=b', 'k8s:io.kubernetes.pod.namespace=y'] });
    expect(f.IP).toMatchObject({ source: '10.0.1.5', destination: '10.0.2.7', ipVersion: IPVersion.IPv4 });
    expect(f.Summary).toBe('TCP Flags: SYN');
    expect(compact(f)).toBe('Jan  1 00:20:34.567: x/a:40000 (ID:20001) <> y/b:80 (ID:20002) Policy denied DROPPED (TCP Flags: SYN)\n');
  });

  it('takes a drop elsewhere than the sender as ingress', () => {
    const f = builder.build(event({ type: 'drop', subType: 181, sourceEndpointId: 999, packet: synAck }));
    expect(f.trafficDirection).toBe(TrafficDirection.INGRESS);
    expect(f.dropReasonDesc).toBe(DropReason.POLICY_DENY);
  });

  it('builds traces: observation point 0 is TO_ENDPOINT, conntrack reason gives is_reply and direction', () => {
    const out = builder.build(event({ subType: 5, sourceEndpointId: 1234, traceReason: 0, ifindex: 7 }));
    expect(out.verdict).toBe(Verdict.FORWARDED);
    expect(out.traceObservationPoint).toBe(TraceObservationPoint.FROM_ENDPOINT);
    expect(out.traceReason).toBe(TraceReason.NEW);
    expect(out.isReply).toBe(false);
    expect(out.trafficDirection).toBe(TrafficDirection.EGRESS);
    expect(out.interface).toMatchObject({ index: 7, name: 'lxc1234' });
    expect(compact(out)).toContain('x/a:40000 (ID:20001) -> y/b:80 (ID:20002) from-endpoint FORWARDED (TCP Flags: SYN)');

    const reply = builder.build(event({ subType: 0, sourceEndpointId: 1234, traceReason: 2, packet: synAck }));
    expect(reply.traceObservationPoint).toBe(TraceObservationPoint.TO_ENDPOINT);
    expect(reply.isReply).toBe(true);
    expect(reply.trafficDirection).toBe(TrafficDirection.EGRESS);
    expect(compact(reply)).toContain('x/a:40000 (ID:20001) <- y/b:80 (ID:20002) to-endpoint FORWARDED (TCP Flags: SYN, ACK)');
  });

  it('leaves is_reply and direction unknown when the trace reason is unknown, and marks encryption', () => {
    const f = builder.build(event({ subType: 3, sourceEndpointId: 1234, traceReason: 5 | 0x80 }));
    expect(f.isReply).toBeUndefined();
    expect(f.trafficDirection).toBe(TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN);
    expect(f.IP?.encrypted).toBe(true);
    expect(f.traceReason).toBe(TraceReason.TRACE_REASON_UNKNOWN);
  });

  it('builds policy verdicts: remote identity by direction, verdict from the datapath verdict', () => {
    const allowed = builder.build(event({ type: 'policy-verdict', packet: synAck, policyVerdict: { verdict: 0, direction: 'ingress', matchType: 2, audited: false, remoteIdentity: 20002 } }));
    expect(allowed.verdict).toBe(Verdict.FORWARDED);
    expect(allowed.isReply).toBe(false);
    expect(allowed.trafficDirection).toBe(TrafficDirection.INGRESS);
    expect(allowed.source?.identity).toBe(20002);
    expect(allowed.destination?.identity).toBe(20001);
    expect(allowed.policyMatchType).toBe(2);
    expect(compact(allowed)).toContain('y/b:80 (ID:20002) -> x/a:40000 (ID:20001) policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: SYN, ACK)');

    const denied = builder.build(event({ type: 'policy-verdict', policyVerdict: { verdict: -133, direction: 'egress', matchType: 0, audited: false, remoteIdentity: 20002 } }));
    expect(denied.verdict).toBe(Verdict.DROPPED);
    expect(denied.dropReasonDesc).toBe(DropReason.POLICY_DENIED);
    expect(denied.isReply).toBeUndefined();
    expect(compact(denied)).toContain('policy-verdict:none EGRESS DENIED');

    const redirected = builder.build(event({ type: 'policy-verdict', policyVerdict: { verdict: 15001, direction: 'egress', matchType: 2, audited: false, remoteIdentity: 20002 } }));
    expect(redirected.verdict).toBe(Verdict.REDIRECTED);
    const audited = builder.build(event({ type: 'policy-verdict', policyVerdict: { verdict: 0, direction: 'egress', matchType: 2, audited: true, remoteIdentity: 20002 } }));
    expect(audited.verdict).toBe(Verdict.AUDIT);
  });

  it('resolves world peers, DNS names, services and keeps only the longest CIDR label', () => {
    const toWorld = builder.build(event({ sourceEndpointId: 1234, traceReason: 0, subType: 5, destinationIdentity: 16777217,
      packet: craftPacket({ src: '10.0.1.5', dst: '93.184.216.34', l4: { icmp: { type: 8, code: 0 } } }) }));
    expect(toWorld.destinationNames).toEqual(['example.com']);
    expect(toWorld.destination?.labels).toEqual(['cidr:10.0.0.0/24', 'reserved:world']);
    expect(toWorld.Summary).toBe('ICMPv4 EchoRequest');
    expect(compact(toWorld)).toContain('x/a (ID:20001) -> example.com (ID:16777217) from-endpoint FORWARDED (ICMPv4 EchoRequest)');

    const dns = builder.build(event({ packet: craftPacket({ src: '10.0.1.5', dst: '10.96.0.10', l4: { udp: { sport: 5000, dport: 53 } } }) }));
    expect(dns.destinationService).toMatchObject({ name: 'kube-dns', namespace: 'kube-system' });
    expect(dns.Summary).toBe('UDP');
  });

  it('uses the original source address of SNATed traces and shares label arrays between flows', () => {
    const a = builder.build(event({ originalSourceIp: '10.0.1.5', sourceEndpointId: 1234, traceReason: 1, packet: craftPacket({ src: '192.168.0.1', dst: '10.0.2.7', l4: { udp: { sport: 1, dport: 2 } } }) }));
    expect(a.IP?.source).toBe('10.0.1.5');
    expect(a.source?.podName).toBe('a');
    const b = builder.build(event({ sourceEndpointId: 1234, traceReason: 1 }));
    expect(a.destination?.labels).toBe(b.destination?.labels);
  });

  it('produces complete, valid flow.Flow messages (every field present, binary round trip equal)', () => {
    const f = builder.build(event({ sourceEndpointId: 1234, traceReason: 1, ifindex: 7 }));
    const implicit = FlowSchema.members.filter((m) => m.kind === 'oneof' || m.fieldKind !== 'message').map((m) => m.localName);
    for (const name of implicit) expect(f, name).toHaveProperty(name);
    const known = new Set(['$typeName', ...FlowSchema.members.map((m) => m.localName)]);
    expect(Object.keys(f).filter((k) => !known.has(k))).toEqual([]);
    const decoded = fromBinary(FlowSchema, toBinary(FlowSchema, f));
    expect(equals(FlowSchema, decoded, f)).toBe(true);
    expect(decoded.time).toEqual({ $typeName: 'google.protobuf.Timestamp', seconds: 1767226834n, nanos: 567000000 });
  });

  it('attributes policy verdicts and policy drops to policies when the agent can tell', () => {
    const queries: unknown[] = [];
    const withPolicies = new FlowBuilder(
      {
        ...lookups,
        lookupPolicies: (q) => {
          queries.push(q);
          return q.allowed
            ? { allowedBy: [{ name: 'allow-b', namespace: 'y', kind: 'CiliumNetworkPolicy' }], deniedBy: [] }
            : { allowedBy: [], deniedBy: [{ name: 'deny-world', namespace: '', kind: 'CiliumClusterwideNetworkPolicy' }] };
        },
      },
      { nodeName: 'k8s1' },
    );
    const allowed = withPolicies.build(event({ type: 'policy-verdict', packet: synAck, policyVerdict: { verdict: 0, direction: 'ingress', matchType: 2, audited: false, remoteIdentity: 20002 } }));
    expect(queries[0]).toEqual({ direction: 'ingress', endpointId: 0, remoteIdentity: 20002, protocol: 'TCP', port: 40000, allowed: true });
    expect(allowed.ingressAllowedBy).toEqual([expect.objectContaining({ name: 'allow-b', namespace: 'y', kind: 'CiliumNetworkPolicy' })]);
    expect(allowed.egressAllowedBy).toEqual([]);
    let out = '';
    new FlowPrinter({ output: 'compact', policyNames: true }, { write: (t: string) => (out += t) }).write(create(GetFlowsResponseSchema, { responseTypes: { case: 'flow', value: allowed } }));
    expect(out).toContain('policy-verdict:L3-L4 INGRESS ALLOWED BY allow-b (CiliumNetworkPolicy) (TCP Flags: SYN, ACK)');

    const dropped = withPolicies.build(event({ type: 'drop', subType: 133, sourceEndpointId: 1234, sourceIdentity: 20001, destinationIdentity: 20002 }));
    expect(queries[1]).toMatchObject({ direction: 'egress', endpointId: 1234, remoteIdentity: 20002, port: 80, allowed: false });
    expect(dropped.egressDeniedBy.map((p) => p.name)).toEqual(['deny-world']);
    expect(withPolicies.build(event({ subType: 5, sourceEndpointId: 1234, traceReason: 0 })).egressAllowedBy).toEqual([]);
    expect(queries).toHaveLength(2);
  });
});
