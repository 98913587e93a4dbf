import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createHubbleTransport, timestampToMs, type HubbleTransport } from '@cilium-ts/hubble';
import { NodeState, Observer, health, type GetFlowsResponse } from '@cilium-ts/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor } from '../test/relay-cluster.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
const T0 = Date.now() - 120_000;
const flowTime = (r: GetFlowsResponse) => (r.time ? timestampToMs(r.time) : NaN);
const statusOf = (r: GetFlowsResponse) => (r.responseTypes.case === 'nodeStatus' ? { state: r.responseTypes.value.stateChange, names: r.responseTypes.value.nodeNames } : undefined);

describe('hubble-relay over three real Hubble servers', () => {
  let cluster: Cluster;
  let transport: HubbleTransport;

  beforeAll(async () => {
    cluster = await startCluster(['k8s1', 'k8s2', 'k8s3']);
    // Interleaved times with per-node clock skew: k8s2 runs 7 ms behind, k8s3 13 ms ahead, and
    // every node writes its flows in its own order, so no single stream is globally sorted.
    const skew = [0, -7, 13];
    cluster.nodes.forEach((node, i) => {
      for (let j = 0; j < 30; j++) node.udp(T0 + j * 10 + (skew[i] ?? 0), 1000 * (i + 1) + j);
    });
    transport = createHubbleTransport(`127.0.0.1:${cluster.relay.address.port}`);
  });
  afterAll(async () => {
    transport.close();
    await cluster.close();
  });

  it('merges the nodes\u2019 last N flows in time order after a NODE_CONNECTED event', async () => {
    const client = createClient(Observer, transport.transport);
    let version = '';
    const out: GetFlowsResponse[] = [];
    for await (const r of client.getFlows({ number: 20n }, { onHeader: (h) => (version = h.get('hubble-relay-version') ?? '') })) out.push(r);
    expect(version).toBe('1.19.4-ts-relay');
    expect(statusOf(out[0] as GetFlowsResponse)).toEqual({ state: NodeState.NODE_CONNECTED, names: ['k8s1', 'k8s2', 'k8s3'] });
    const flows = out.filter((r) => r.responseTypes.case === 'flow');
    expect(flows).toHaveLength(60); // --last N is per node, as upstream
    const times = flows.map(flowTime);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(flows.map((r) => r.nodeName))).toEqual(new Set(['k8s1', 'k8s2', 'k8s3']));
  });

  it('sums ServerStatus over the nodes and counts them', async () => {
    const status = await createClient(Observer, transport.transport).serverStatus({});
    expect(status).toMatchObject({ numFlows: 90n, maxFlows: 3n * 4095n, seenFlows: 90n, numConnectedNodes: 3, numUnavailableNodes: 0, unavailableNodes: [], version: '1.19.4-ts-relay' });
  });

  it('lists the nodes and the merged namespaces', async () => {
    const client = createClient(Observer, transport.transport);
    const nodes = await client.getNodes({});
    expect(nodes.nodes.map((n) => [n.name, n.state, n.numFlows])).toEqual([
      ['k8s1', NodeState.NODE_CONNECTED, 30n],
      ['k8s2', NodeState.NODE_CONNECTED, 30n],
      ['k8s3', NodeState.NODE_CONNECTED, 30n],
    ]);
    expect((await client.getNamespaces({})).namespaces.map((n) => n.namespace)).toEqual(['x', 'y']);
    expect((await createClient(health.Health, transport.transport).check({ service: 'hubble.server.Observer' })).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
  });

  it('answers health on its health-only listener too', async () => {
    const t = createHubbleTransport(`127.0.0.1:${cluster.relay.healthAddress?.port}`);
    try {
      expect((await createClient(health.Health, t.transport).check({ service: 'hubble.server.Observer' })).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      t.close();
    }
  });

  it('reports a node dying mid-stream and keeps streaming the others', async () => {
    const client = createClient(Observer, transport.transport);
    const abort = new AbortController();
    // `since` rather than a bare follow: flows written from now on are found however late the streams start.
    const stream = client.getFlows({ follow: true, since: timestampFromMs(Date.now()) }, { signal: abort.signal })[Symbol.asyncIterator]();
    const next = async () => (await stream.next()).value as GetFlowsResponse;
    expect(statusOf(await next())?.state).toBe(NodeState.NODE_CONNECTED);

    const [k8s1, , k8s3] = cluster.nodes;
    k8s1?.udp(Date.now(), 7001);
    expect((await next()).nodeName).toBe('k8s1');

    await k8s3?.server.close();
    expect(statusOf(await next())).toEqual({ state: NodeState.NODE_UNAVAILABLE, names: ['k8s3'] });

    k8s1?.udp(Date.now(), 7002);
    const after = await next();
    expect(after.responseTypes.case === 'flow' && after.responseTypes.value.l4?.protocol.case === 'UDP' && after.responseTypes.value.l4.protocol.value.sourcePort).toBe(7002);
    abort.abort();

    await waitFor('k8s3 unavailable', () => cluster.relay.peers().find((p) => p.name === 'k8s3')?.available === false);
    const status = await client.serverStatus({});
    expect(status).toMatchObject({ numConnectedNodes: 2, numUnavailableNodes: 1, unavailableNodes: ['k8s3'] });
    const nodes = await client.getNodes({});
    expect(nodes.nodes.find((n) => n.name === 'k8s3')?.state).toBe(NodeState.NODE_UNAVAILABLE);
  });
});
