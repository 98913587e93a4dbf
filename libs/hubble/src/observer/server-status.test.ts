import { create } from '@bufbuild/protobuf';
import { FlowSchema } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../ring-buffer.js';
import { NamespaceTracker } from './namespace-tracker.js';
import { serverStatus } from './server-status.js';

describe('serverStatus', () => {
  it('reports occupancy, capacity, seen flows, uptime and the last-minute rate', () => {
    const ring = new RingBuffer(7);
    const now = 1_000_000;
    for (let i = 0; i < 10; i++) ring.write(create(FlowSchema, {}), now - 90_000 + i * 10_000);
    const s = serverStatus(ring, { startedAt: now - 2000, version: '1.19.4', now });
    expect(s.numFlows).toBe(7n);
    expect(s.maxFlows).toBe(7n);
    expect(s.seenFlows).toBe(10n);
    expect(s.uptimeNs).toBe(2_000_000_000n);
    // flows at now-60s .. now-0s: 7 of the ten, all still in the ring
    expect(s.flowsRate).toBeCloseTo(7 / 60);
    expect(s.numConnectedNodes).toBeUndefined();
  });
});

describe('NamespaceTracker', () => {
  it('lists namespaces of the last hour sorted by cluster then namespace', () => {
    const t = new NamespaceTracker();
    t.observe(create(FlowSchema, { source: { namespace: 'z' }, destination: { namespace: 'a', clusterName: 'c2' } }), 0);
    t.observe(create(FlowSchema, { source: { namespace: 'old' } }), -3_700_000);
    expect(t.list(1000).map((n) => `${n.cluster}/${n.namespace}`)).toEqual(['/z', 'c2/a']);
  });
});
