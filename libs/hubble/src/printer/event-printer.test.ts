import { create } from '@bufbuild/protobuf';
import { AgentEventType, DebugEventType, GetAgentEventsResponseSchema, GetDebugEventsResponseSchema } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { FlowPrinter, type PrinterOptions } from './printer.js';

const time = { seconds: 1234n, nanos: 567800000 };

const agentEvents = [
  create(GetAgentEventsResponseSchema, {
    agentEvent: { type: AgentEventType.AGENT_STARTED, notification: { case: 'agentStart', value: { time } } },
    nodeName: 'k8s1',
    time,
  }),
  create(GetAgentEventsResponseSchema, {
    agentEvent: { type: AgentEventType.ENDPOINT_CREATED, notification: { case: 'endpointUpdate', value: { id: 42n, namespace: 'x', podName: 'a' } } },
    nodeName: 'k8s1',
    time,
  }),
  create(GetAgentEventsResponseSchema, {
    agentEvent: { type: AgentEventType.IPCACHE_UPSERTED, notification: { case: 'ipcacheUpdate', value: { cidr: '10.0.1.5/32', identity: 20001, oldIdentity: 2, hostIp: '192.168.0.2' } } },
    nodeName: 'k8s1',
    time,
  }),
];

function print(options: PrinterOptions, write: (p: FlowPrinter) => void): string {
  let out = '';
  const p = new FlowPrinter(options, { write: (t: string) => (out += t) });
  write(p);
  p.close();
  return out;
}

describe('agent events', () => {
  it('prints compact lines with type and details', () => {
    expect(print({ output: 'compact', nodeName: true }, (p) => agentEvents.forEach((e) => p.writeAgentEvent(e)))).toBe(
      'Jan  1 00:20:34.567 [k8s1]: AGENT_STARTED (start time: Jan  1 00:20:34.567)\n' +
        'Jan  1 00:20:34.567 [k8s1]: ENDPOINT_CREATED (id: 42, namespace: x, pod name: a)\n' +
        'Jan  1 00:20:34.567 [k8s1]: IPCACHE_UPSERTED (cidr: 10.0.1.5/32, identity: 20001, old identity: 2, host ip: 192.168.0.2, encrypt key: 0)\n',
    );
  });

  it('prints a table', () => {
    expect(print({ output: 'table' }, (p) => agentEvents.slice(0, 2).forEach((e) => p.writeAgentEvent(e)))).toBe(
      'TIMESTAMP             TYPE               DETAILS\n' +
        'Jan  1 00:20:34.567   AGENT_STARTED      start time: Jan  1 00:20:34.567\n' +
        'Jan  1 00:20:34.567   ENDPOINT_CREATED   id: 42, namespace: x, pod name: a\n',
    );
  });

  it('prints dict records with upstream separator placement', () => {
    expect(print({ output: 'dict' }, (p) => agentEvents.slice(0, 2).forEach((e) => p.writeAgentEvent(e)))).toBe(
      '  TIMESTAMP: Jan  1 00:20:34.567\n       TYPE: AGENT_STARTED\n    DETAILS: start time: Jan  1 00:20:34.567\n' +
        '------------  TIMESTAMP: Jan  1 00:20:34.567\n       TYPE: ENDPOINT_CREATED\n    DETAILS: id: 42, namespace: x, pod name: a\n',
    );
  });
});

describe('debug events', () => {
  const debug = create(GetDebugEventsResponseSchema, {
    debugEvent: { type: DebugEventType.DBG_CT_LOOKUP4_1, source: { ID: 1234, namespace: 'x', podName: 'a' }, hash: 0xab12, cpu: 1, message: 'src=10.0.1.5:40000 dst=10.0.2.7:80' },
    nodeName: 'k8s1',
    time,
  });

  it('prints compact lines with endpoint, mark and CPU', () => {
    expect(print({ output: 'compact' }, (p) => p.writeDebugEvent(debug))).toBe(
      'Jan  1 00:20:34.567: x/a (ID: 1234) DBG_CT_LOOKUP4_1 MARK: 0xab12 CPU: 01 (src=10.0.1.5:40000 dst=10.0.2.7:80)\n',
    );
  });

  it('prints N/A for missing fields and reserved endpoints by label', () => {
    const bare = create(GetDebugEventsResponseSchema, { debugEvent: { type: DebugEventType.DBG_GENERIC, source: { ID: 7, labels: ['reserved:host'] } }, time });
    expect(print({ output: 'compact' }, (p) => p.writeDebugEvent(bare))).toBe('Jan  1 00:20:34.567: reserved:host (ID: 7) DBG_GENERIC MARK: N/A CPU: N/A ()\n');
  });

  it('prints jsonpb responses', () => {
    expect(print({ output: 'jsonpb' }, (p) => p.writeDebugEvent(debug))).toBe(
      '{"debug_event":{"type":"DBG_CT_LOOKUP4_1","source":{"ID":1234,"namespace":"x","pod_name":"a"},"hash":43794,"message":"src=10.0.1.5:40000 dst=10.0.2.7:80","cpu":1},"node_name":"k8s1","time":"1970-01-01T00:20:34.567800Z"}\n',
    );
  });
});
