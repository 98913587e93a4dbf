import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  AuthType,
  FlowSchema,
  FlowType,
  GetFlowsResponseSchema,
  LostEventSource,
  NodeState,
  ServerStatusResponseSchema,
  TrafficDirection,
  Verdict,
  type Flow,
} from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { FlowPrinter, type PrinterOptions } from './printer.js';

// The fixture of upstream's printer tests: a policy drop from the health identity.
type FlowInit = Exclude<MessageInitShape<typeof FlowSchema>, Flow>;
const base: FlowInit = {
  time: { seconds: 1234n, nanos: 567800000 },
  Type: FlowType.L3_L4,
  nodeName: 'k8s1',
  verdict: Verdict.DROPPED,
  IP: { source: '1.1.1.1', destination: '2.2.2.2' },
  source: { identity: 4 },
  destination: { identity: 12345 },
  l4: { protocol: { case: 'TCP', value: { sourcePort: 31793, destinationPort: 8080 } } },
  eventType: { type: 1, subType: 133 },
  Summary: 'TCP Flags: SYN',
  isReply: false,
};
const flow = (over: FlowInit = {}): Flow => create(FlowSchema, { ...base, ...over });
const response = (f: Flow) => create(GetFlowsResponseSchema, { responseTypes: { case: 'flow', value: f } });

function print(options: PrinterOptions, ...flows: Flow[]): { out: string; err: string } {
  let out = '';
  let err = '';
  const p = new FlowPrinter(options, { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) });
  for (const f of flows) p.write(response(f));
  p.close();
  return { out, err };
}

describe('FlowPrinter compact', () => {
  it('prints upstream test line', () => {
    expect(print({ output: 'compact' }, flow()).out).toBe(
      'Jan  1 00:20:34.567: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n',
    );
  });

  it('adds the node name', () => {
    expect(print({ output: 'compact', nodeName: true }, flow()).out).toBe(
      'Jan  1 00:20:34.567 [k8s1]: 1.1.1.1:31793 (health) -> 2.2.2.2:8080 (ID:12345) Policy denied DROPPED (TCP Flags: SYN)\n',
    );
  });

  it('swaps ends and flips the arrow for replies', () => {
    expect(print({ output: 'compact', nodeName: true }, flow({ isReply: true })).out).toBe(
      'Jan  1 00:20:34.567 [k8s1]: 2.2.2.2:8080 (ID:12345) <- 1.1.1.1:31793 (health) Policy denied DROPPED (TCP Flags: SYN)\n',
    );
  });

  it('prints <> when the direction is unknown', () => {
    expect(print({ output: 'compact' }, flow({ isReply: undefined })).out).toContain('(health) <> 2.2.2.2:8080');
  });

  it('prints policy verdicts with their match type, direction and policies', () => {
    const verdict = flow({
      eventType: { type: 5 },
      isReply: undefined,
      verdict: Verdict.FORWARDED,
      policyMatchType: 1,
      trafficDirection: TrafficDirection.INGRESS,
      ingressAllowedBy: [{ name: 'my-policy', kind: 'CiliumNetworkPolicy', namespace: 'default' }],
    });
    expect(print({ output: 'compact', nodeName: true, policyNames: true }, verdict).out).toBe(
      'Jan  1 00:20:34.567 [k8s1]: 1.1.1.1:31793 (health) <> 2.2.2.2:8080 (ID:12345) policy-verdict:L3-Only INGRESS ALLOWED BY my-policy (CiliumNetworkPolicy) (TCP Flags: SYN)\n',
    );
    const denied = flow({ eventType: { type: 5 }, isReply: undefined, trafficDirection: TrafficDirection.EGRESS });
    expect(print({ output: 'compact' }, denied).out).toContain('policy-verdict:none EGRESS DENIED (TCP Flags: SYN)');
  });

  it('names pods, services and DNS names instead of IPs, unless translation is off', () => {
    const named = flow({
      source: { namespace: 'x', podName: 'a', identity: 2 },
      destinationService: { namespace: 'y', name: 'web' },
      destinationNames: ['ignored.example'],
      isReply: false,
    });
    expect(print({ output: 'compact' }, named).out).toContain('x/a:31793 (world) -> y/web:8080 (ID:12345)');
    expect(print({ output: 'compact', ipTranslation: false }, named).out).toContain('1.1.1.1:31793 (world) -> 2.2.2.2:8080');
    const dns = flow({ destinationNames: ['a.example', 'b.example'] });
    expect(print({ output: 'compact' }, dns).out).toContain('-> a.example,b.example:8080');
  });

  it('prints the observation point for traces, IPv6 in brackets, MACs without IP, and summary extras', () => {
    const trace = flow({
      eventType: { type: 4, subType: 0 },
      verdict: Verdict.FORWARDED,
      IP: { source: 'fd00::1', destination: 'fd00::2' },
      ipTraceId: { traceId: 42n },
      authType: AuthType.SPIRE,
    });
    expect(print({ output: 'compact' }, trace).out).toBe(
      'Jan  1 00:20:34.567: [fd00::1]:31793 (health) -> [fd00::2]:8080 (ID:12345) to-endpoint FORWARDED (IP Trace ID: 42; TCP Flags: SYN; Auth: SPIRE)\n',
    );
    const l2 = flow({ IP: undefined, ethernet: { source: '00:01:02:03:04:05', destination: '06:07:08:09:0a:0b' }, l4: undefined, Summary: 'ARP' });
    expect(print({ output: 'compact' }, l2).out).toContain(': 00:01:02:03:04:05 (health) -> 06:07:08:09:0a:0b (ID:12345)');
  });

  it('prints L7 types', () => {
    const dns = flow({ l7: { type: 1, record: { case: 'dns', value: { observationSource: 'proxy' } } } });
    expect(print({ output: 'compact' }, dns).out).toContain(' dns-request proxy DROPPED ');
    const http = flow({ l7: { type: 2, record: { case: 'http', value: { code: 200 } } }, verdict: Verdict.FORWARDED });
    expect(print({ output: 'compact' }, http).out).toContain(' http-response FORWARDED ');
  });

  it('escapes control characters from flow contents', () => {
    expect(print({ output: 'compact' }, flow({ Summary: 'a\x1b[31mb\r' })).out).toContain('(a^[[31mb\\r)');
  });

  it('colours like hubble --color always', () => {
    expect(print({ output: 'compact', color: true }, flow()).out).toBe(
      'Jan  1 00:20:34.567: \x1b[36m1.1.1.1:\x1b[33m31793\x1b[0m\x1b[0m \x1b[35m(health)\x1b[0m -> \x1b[36m2.2.2.2:\x1b[33m8080\x1b[0m\x1b[0m \x1b[35m(ID:12345)\x1b[0m Policy denied \x1b[31mDROPPED\x1b[0m (TCP Flags: SYN)\n',
    );
  });

  it('accepts other time formats', () => {
    expect(print({ output: 'compact', timeFormat: 'RFC3339Milli' }, flow()).out).toMatch(/^1970-01-01T00:20:34\.567Z: /);
    expect(print({ output: 'compact', timeFormat: 'RFC3339Nano' }, flow()).out).toMatch(/^1970-01-01T00:20:34\.5678Z: /);
    expect(print({ output: 'compact', timeFormat: 'RFC1123Z' }, flow()).out).toMatch(/^Thu, 01 Jan 1970 00:20:34 \+0000: /);
  });
});

describe('FlowPrinter table', () => {
  it('aligns like Go tabwriter', () => {
    expect(print({ output: 'table' }, flow()).out).toBe(
      'TIMESTAMP             SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\n' +
        'Jan  1 00:20:34.567   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n',
    );
  });

  it('adds a NODE column', () => {
    expect(print({ output: 'table', nodeName: true }, flow()).out).toBe(
      'TIMESTAMP             NODE   SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\n' +
        'Jan  1 00:20:34.567   k8s1   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n',
    );
  });

  it('widens columns for longer rows', () => {
    const lines = print({ output: 'table' }, flow(), flow({ source: { namespace: 'kube-system', podName: 'coredns-1' } })).out.split('\n');
    expect(lines[0]).toBe('TIMESTAMP             SOURCE                        DESTINATION    TYPE            VERDICT   SUMMARY');
    expect(lines[2]).toBe('Jan  1 00:20:34.567   kube-system/coredns-1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN');
  });
});

describe('FlowPrinter dict', () => {
  it('prints right-aligned keys and separates records', () => {
    expect(print({ output: 'dict', nodeName: true }, flow(), flow()).out).toBe(
      '  TIMESTAMP: Jan  1 00:20:34.567\n       NODE: k8s1\n     SOURCE: 1.1.1.1:31793\nDESTINATION: 2.2.2.2:8080\n       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n' +
        '------------\n' +
        '  TIMESTAMP: Jan  1 00:20:34.567\n       NODE: k8s1\n     SOURCE: 1.1.1.1:31793\nDESTINATION: 2.2.2.2:8080\n       TYPE: Policy denied\n    VERDICT: DROPPED\n    SUMMARY: TCP Flags: SYN\n',
    );
  });
});

describe('FlowPrinter json and jsonpb', () => {
  const expectedFlow =
    '{"time":"1970-01-01T00:20:34.567800Z","verdict":"DROPPED","IP":{"source":"1.1.1.1","destination":"2.2.2.2"},' +
    '"l4":{"TCP":{"source_port":31793,"destination_port":8080}},"source":{"identity":4},"destination":{"identity":12345},' +
    '"Type":"L3_L4","node_name":"k8s1","event_type":{"type":1,"sub_type":133},"is_reply":false,"Summary":"TCP Flags: SYN"}';

  it('prints the flow as protojson with proto names (json)', () => {
    expect(print({ output: 'json' }, flow()).out).toBe(expectedFlow + '\n');
  });

  it('prints the whole response (jsonpb)', () => {
    expect(print({ output: 'jsonpb' }, flow()).out).toBe(`{"flow":${expectedFlow}}\n`);
  });

  it('escapes <, > and & like Go encoding/json', () => {
    expect(print({ output: 'json' }, flow({ Summary: '<a&b>' })).out).toContain('"Summary":"\\u003ca\\u0026b\\u003e"');
  });
});

describe('FlowPrinter lost events and node status', () => {
  const lost = create(GetFlowsResponseSchema, {
    responseTypes: { case: 'lostEvents', value: { source: LostEventSource.HUBBLE_RING_BUFFER, numEventsLost: 1n } },
  });
  const status = (stateChange: NodeState, message = '') =>
    create(GetFlowsResponseSchema, {
      responseTypes: { case: 'nodeStatus', value: { stateChange, nodeNames: ['k8s1', 'k8s2'], message } },
      nodeName: 'relay',
      time: { seconds: 1234n, nanos: 0 },
    });

  function printResponses(options: PrinterOptions, ...responses: ReturnType<typeof create<typeof GetFlowsResponseSchema>>[]) {
    let out = '';
    let err = '';
    const p = new FlowPrinter(options, { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) });
    for (const r of responses) p.write(r);
    p.close();
    return { out, err };
  }

  it('prints lost events', () => {
    expect(printResponses({ output: 'compact' }, lost).out).toBe('EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 1\n');
    expect(printResponses({ output: 'dict' }, lost).out).toBe('  TIMESTAMP: \n     SOURCE: HUBBLE_RING_BUFFER\n       TYPE: EVENTS LOST\n    VERDICT: \n    SUMMARY: CPU(0) - 1\n');
  });

  it('writes node problems to stderr and hides informational ones without debug', () => {
    const r = printResponses({ output: 'compact' }, status(NodeState.NODE_CONNECTED), status(NodeState.NODE_UNAVAILABLE), status(NodeState.NODE_ERROR, 'boom'));
    expect(r.out).toBe('');
    expect(r.err).toBe('Jan  1 00:20:34.000 [relay]: 2 nodes are unavailable: k8s1, k8s2\nJan  1 00:20:34.000 [relay]: Error "boom" on 2 nodes: k8s1, k8s2\n');
    expect(printResponses({ output: 'compact', debug: true }, status(NodeState.NODE_CONNECTED)).err).toBe('Jan  1 00:20:34.000 [relay]: Receiving flows from 2 nodes: k8s1, k8s2\n');
  });
});

describe('FlowPrinter server status', () => {
  it('prints hubble status lines', () => {
    let out = '';
    const p = new FlowPrinter({ output: 'compact' }, { write: (t: string) => (out += t) });
    p.writeServerStatus(
      create(ServerStatusResponseSchema, { numFlows: 12285n, maxFlows: 12285n, seenFlows: 99999n, flowsRate: 55.87, numConnectedNodes: 2, numUnavailableNodes: 1, unavailableNodes: ['k8s3'] }),
    );
    expect(out).toBe('Current/Max Flows: 12,285/12,285 (100.00%)\nFlows/s: 55.87\nConnected Nodes: 2/3\nUnavailable Nodes: 1\n  - k8s3\n');
  });
});
