import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import {
  DropReason,
  FlowSchema,
  FlowType,
  GetFlowsRequestSchema,
  GetFlowsResponseSchema,
  IPVersion,
  TraceObservationPoint,
  TrafficDirection,
  Verdict,
  hubbleProtoFiles,
  protoRoot,
  toHubbleJson,
} from './index.js';

// An independent decoder: protobufjs (through @grpc/proto-loader) reading our .proto files at run
// time, the way a grpc-js client of upstream Hubble does.
const packageDefinition = protoLoader.loadSync([...hubbleProtoFiles], {
  includeDirs: [protoRoot],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
});

function grpcJsDecodeResponse(bytes: Uint8Array): Record<string, unknown> {
  const service = packageDefinition['observer.Observer'] as protoLoader.ServiceDefinition;
  const getFlows = service['GetFlows'];
  if (!getFlows) throw new Error('observer.Observer has no GetFlows method');
  return getFlows.responseDeserialize(Buffer.from(bytes)) as Record<string, unknown>;
}

const flow = create(FlowSchema, {
  time: timestampFromDate(new Date('2026-01-01T00:20:34.567Z')),
  uuid: '2e6d0a55-7f6b-4a4e-9d7e-1f3f0e6d6a01',
  verdict: Verdict.DROPPED,
  dropReasonDesc: DropReason.POLICY_DENIED,
  IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: IPVersion.IPv4 },
  l4: { protocol: { case: 'TCP', value: { sourcePort: 31793, destinationPort: 8080, flags: { SYN: true } } } },
  source: { identity: 4, namespace: 'x', podName: 'a', labels: ['k8s:app=a'] },
  destination: { identity: 12345, namespace: 'y', podName: 'b' },
  Type: FlowType.L3_L4,
  nodeName: 'k8s1',
  isReply: false,
  eventType: { type: 1, subType: 133 },
  trafficDirection: TrafficDirection.INGRESS,
  traceObservationPoint: TraceObservationPoint.TO_ENDPOINT,
  Summary: 'TCP Flags: SYN',
  egressAllowedBy: [{ name: 'allow-dns', namespace: 'x', kind: 'CiliumNetworkPolicy', revision: 7n }],
  ingressDeniedBy: [{ name: 'deny-b', namespace: 'y', kind: 'CiliumNetworkPolicy' }],
  socketCookie: 18446744073709551615n,
});

describe('wire compatibility with a run-time .proto decoder', () => {
  it('keeps field numbers of Flow, including the high ones (Summary 100000, policies 21001+)', () => {
    const bytes = toBinary(GetFlowsResponseSchema, create(GetFlowsResponseSchema, {
      responseTypes: { case: 'flow', value: flow },
      nodeName: 'k8s1',
      time: flow.time,
    }));
    const decoded = grpcJsDecodeResponse(bytes);
    expect(decoded['response_types']).toBe('flow');
    expect(decoded['node_name']).toBe('k8s1');
    const f = decoded['flow'] as Record<string, unknown>;
    expect(f['Summary']).toBe('TCP Flags: SYN');
    expect(f['verdict']).toBe('DROPPED');
    expect(f['drop_reason_desc']).toBe('POLICY_DENIED');
    expect(f['trace_observation_point']).toBe('TO_ENDPOINT');
    expect(f['Type']).toBe('L3_L4');
    expect(f['egress_allowed_by']).toEqual([{ name: 'allow-dns', namespace: 'x', kind: 'CiliumNetworkPolicy', revision: '7' }]);
    expect(f['ingress_denied_by']).toEqual([{ name: 'deny-b', namespace: 'y', kind: 'CiliumNetworkPolicy' }]);
    // A present BoolValue(false) must stay present: unset would print `<>` instead of `->`.
    expect(f['is_reply']).toEqual({});
    expect(f['socket_cookie']).toBe('18446744073709551615');
    expect(f['l4']).toEqual({ TCP: { source_port: 31793, destination_port: 8080, flags: { SYN: true } }, protocol: 'TCP' });
  });

  it('writes the documented tags on the wire (a field number typo would change these bytes)', () => {
    const summaryOnly = toBinary(FlowSchema, create(FlowSchema, { Summary: 'x' }));
    // tag = 100000 << 3 | 2 (length-delimited) = 800002, as a varint: 0x82 0xec 0x30
    expect([...summaryOnly]).toEqual([0x82, 0xea, 0x30, 0x01, 0x78]);
    const toEndpoint = toBinary(FlowSchema, create(FlowSchema, { traceObservationPoint: TraceObservationPoint.TO_ENDPOINT }));
    // field 24 varint: tag 0xc0 0x01, value 101
    expect([...toEndpoint]).toEqual([0xc0, 0x01, 101]);
    const egressAllowed = toBinary(FlowSchema, create(FlowSchema, { egressAllowedBy: [{}] }));
    // tag = 21001 << 3 | 2 = 168010 -> 0xca 0xa0 0x0a, then an empty message
    expect([...egressAllowed]).toEqual([0xca, 0xa0, 0x0a, 0x00]);
  });

  it('encodes JSON with upstream protojson keys (UseProtoNames) and enum names', () => {
    const json = toHubbleJson(FlowSchema, flow) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['node_name', 'Type', 'IP', 'Summary', 'l4', 'is_reply', 'drop_reason_desc']));
    expect(json['time']).toBe('2026-01-01T00:20:34.567Z');
    expect(json['Type']).toBe('L3_L4');
    expect(json['IP']).toEqual({ source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' });
    expect(json['l4']).toEqual({ TCP: { source_port: 31793, destination_port: 8080, flags: { SYN: true } } });
    expect(json['is_reply']).toBe(false);
    expect(json['socket_cookie']).toBe('18446744073709551615');
    expect(json['trace_observation_point']).toBe('TO_ENDPOINT');
  });

  it('loads every service with upstream names', () => {
    expect(Object.keys(packageDefinition)).toEqual(expect.arrayContaining([
      'observer.Observer', 'peer.Peer', 'grpc.health.v1.Health', 'relay.NodeStatusEvent', 'flow.Flow',
    ]));
    const observer = packageDefinition['observer.Observer'] as protoLoader.ServiceDefinition;
    expect(Object.keys(observer).sort()).toEqual(['GetAgentEvents', 'GetDebugEvents', 'GetFlows', 'GetNamespaces', 'GetNodes', 'ServerStatus']);
    const notify = (packageDefinition['peer.Peer'] as protoLoader.ServiceDefinition)['Notify'];
    expect(notify?.path).toBe('/peer.Peer/Notify');
    expect(notify?.responseStream).toBe(true);
  });

  it('decodes requests as a grpc-js client encodes them (filters, field mask, timestamps)', () => {
    const service = packageDefinition['observer.Observer'] as protoLoader.ServiceDefinition;
    const getFlows = service['GetFlows'];
    if (!getFlows) throw new Error('observer.Observer has no GetFlows method');
    const bytes = getFlows.requestSerialize({
      number: '20',
      follow: true,
      whitelist: [{ source_pod: ['x/'], destination_port: ['80'], tcp_flags: [{ SYN: true }], event_type: [{ type: 4, match_sub_type: true, sub_type: 0 }] }],
      blacklist: [{ verdict: ['DROPPED'], destination_label: ['reserved:world'] }],
      since: { seconds: '1767225600', nanos: 0 },
      field_mask: { paths: ['time', 'source.identity'] },
    });
    const request = fromBinary(GetFlowsRequestSchema, bytes);
    expect(request.number).toBe(20n);
    expect(request.follow).toBe(true);
    expect(request.whitelist[0]).toMatchObject({ sourcePod: ['x/'], destinationPort: ['80'], tcpFlags: [{ SYN: true }], eventType: [{ type: 4, matchSubType: true, subType: 0 }] });
    expect(request.blacklist[0]).toMatchObject({ verdict: [Verdict.DROPPED], destinationLabel: ['reserved:world'] });
    expect(request.since?.seconds).toBe(1767225600n);
    expect(request.fieldMask?.paths).toEqual(['time', 'source.identity']);
  });

  it('serves the standard health and reflection services', () => {
    const names = Object.keys(packageDefinition);
    expect(names).toEqual(expect.arrayContaining(['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']));
    const check = (packageDefinition['grpc.health.v1.Health'] as protoLoader.ServiceDefinition)['Check'];
    expect(check?.path).toBe('/grpc.health.v1.Health/Check');
    const info = (packageDefinition['grpc.reflection.v1alpha.ServerReflection'] as protoLoader.ServiceDefinition)['ServerReflectionInfo'];
    expect([info?.requestStream, info?.responseStream]).toEqual([true, true]);
  });
});
