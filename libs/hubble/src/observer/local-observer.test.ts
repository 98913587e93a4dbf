import { create } from '@bufbuild/protobuf';
import { GetFlowsRequestSchema, LostEventSource, type GetFlowsResponse } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { HubbleMetrics } from '../metrics/hubble-metrics.js';
import { FlowBuilder, type DatapathEvent } from '../parser/flow-builder.js';
import { craftPacket } from '../parser/test-packets.js';
import { LocalObserver } from './local-observer.js';

const T0 = Date.UTC(2026, 0, 1);
const pod = { id: 7, identity: 30000, namespace: 'x', podName: 'a', labels: ['k8s:app=a'] };
const builder = new FlowBuilder({ lookupEndpointByIp: (ip) => (ip === '10.0.0.7' ? pod : undefined), lookupIdentity: () => ({ labels: ['reserved:world'] }) }, { nodeName: 'k8s1' });
const drop = (i: number): DatapathEvent => ({
  type: 'drop',
  timestamp: T0 + i * 1000,
  subType: 133,
  sourceEndpointId: 7,
  sourceIdentity: 30000,
  destinationIdentity: 2,
  ifindex: 0,
  packet: craftPacket({ src: '10.0.0.7', dst: '1.1.1.1', l4: { udp: { sport: 1000 + i, dport: 53 } } }),
});

describe('LocalObserver', () => {
  it('turns events into flows that GetFlows, ServerStatus, GetNamespaces and metrics see', async () => {
    let now = T0 + 10_000;
    const metrics = new HubbleMetrics('drop');
    const observer = new LocalObserver({ nodeName: 'k8s1', version: '1.19.4-ts', builder, capacity: 7, metrics, now: () => now });
    for (let i = 0; i < 3; i++) observer.observe(drop(i));
    observer.recordLost(LostEventSource.PERF_EVENT_RING_BUFFER, 5, 1);
    now += 1000;

    const out: GetFlowsResponse[] = [];
    for await (const r of observer.getFlows(create(GetFlowsRequestSchema, { number: 10n, first: true }))) out.push(r);
    expect(out.map((r) => r.responseTypes.case)).toEqual(['flow', 'flow', 'flow', 'lostEvents']);
    expect(out[0]?.nodeName).toBe('k8s1');

    const status = observer.serverStatus();
    expect(status).toMatchObject({ numFlows: 4n, maxFlows: 7n, seenFlows: 4n, version: '1.19.4-ts', uptimeNs: 1_000_000_000n });
    expect(observer.getNamespaces().namespaces.map((n) => n.namespace)).toEqual(['x']);

    const text = await metrics.registry.metrics();
    expect(text).toContain('hubble_drop_total{reason="POLICY_DENIED",protocol="UDP"} 3\n');
    expect(text).toContain('hubble_lost_events_total{source="perf_event_ring_buffer"} 5\n');
  });
});
