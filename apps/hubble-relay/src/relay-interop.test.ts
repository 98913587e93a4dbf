import { GrpcJsHubbleClient, type Plain } from '@cilium-ts/hubble/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '../test/relay-cluster.js';

// An independent client (@grpc/grpc-js, .proto files loaded at run time) against the relay and an agent's server.
describe('hubble-relay interop with @grpc/grpc-js', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let relay: GrpcJsHubbleClient;
  let agent: GrpcJsHubbleClient;

  beforeAll(async () => {
    cluster = await startCluster(['k8s1', 'k8s2']);
    const t = Date.now() - 5000;
    cluster.nodes.forEach((n, i) => {
      for (let j = 0; j < 3; j++) n.udp(t + j * 2 + i, 1000 * (i + 1) + j, j === 1 ? 'dropped' : 'forwarded');
    });
    relay = new GrpcJsHubbleClient(`127.0.0.1:${cluster.relay.address.port}`);
    agent = new GrpcJsHubbleClient(cluster.nodes[0]?.server.address ?? '');
  });
  afterAll(async () => {
    relay.close();
    agent.close();
    await cluster.close();
  });

  it('streams merged, filtered flows with node status events and the relay version header', async () => {
    const { responses, metadata } = await relay.getFlows({ number: '10', whitelist: [{ verdict: ['DROPPED'] }] });
    expect(metadata.get('hubble-relay-version')).toEqual(['1.19.4-ts-relay']);
    expect(responses[0]).toMatchObject({ node_name: 'hubble-relay', node_status: { state_change: 'NODE_CONNECTED', node_names: ['k8s1', 'k8s2'] } });
    const flows = responses.filter((r) => r['flow']).map((r) => [r['node_name'], (r['flow'] as Plain)['verdict']]);
    expect(flows).toEqual([
      ['k8s1', 'DROPPED'],
      ['k8s2', 'DROPPED'],
    ]);
  });

  it('answers ServerStatus with node counts, health SERVING and reflection', async () => {
    expect(await relay.serverStatus()).toMatchObject({ num_flows: '6', num_connected_nodes: { value: 2 }, num_unavailable_nodes: { value: 0 }, version: '1.19.4-ts-relay' });
    expect(await relay.healthCheck('hubble.server.Observer')).toBe('SERVING');
    expect(await relay.listServices()).toEqual(['observer.Observer', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);
    const nodes = (await relay.getNodes())['nodes'] as Plain[];
    expect(nodes.map((n) => [n['name'], n['state']])).toEqual([
      ['k8s1', 'NODE_CONNECTED'],
      ['k8s2', 'NODE_CONNECTED'],
    ]);
  });

  it('reaches an agent\u2019s server the same way', async () => {
    const { responses } = await agent.getFlows({ number: '1' });
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ node_name: 'k8s1', flow: { node_name: 'k8s1', l4: { UDP: { source_port: 1002 } } } });
  });
});
