import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcJsHubbleClient } from './grpc-js-client.js';
import { startHubbleServer, type HubbleServer } from './hubble-server.js';
import { testObserver } from './test-observer.js';

// An independent client (@grpc/grpc-js, .proto files loaded at run time) against our Connect server.
describe('Hubble server interop with @grpc/grpc-js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubble-interop-'));
  const node = testObserver('k8s1');
  let server: HubbleServer;
  const clients: GrpcJsHubbleClient[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) node.udp(Date.now() - 10_000 + i, 1000 + i, i === 2 ? 'dropped' : 'forwarded');
    server = await startHubbleServer({ observer: node.observer, nodeName: 'k8s1', version: '1.19.4-ts', unixSocket: join(dir, 'hubble.sock'), tcp: { host: '127.0.0.1', port: 0 } });
    clients.push(new GrpcJsHubbleClient(`unix://${join(dir, 'hubble.sock')}`), new GrpcJsHubbleClient(`127.0.0.1:${server.tcp?.port}`));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams GetFlows with upstream field names, filters and the version header', async () => {
    for (const client of clients) {
      const { responses, metadata } = await client.getFlows({ number: '10', whitelist: [{ verdict: ['DROPPED'] }] });
      expect(metadata.get('hubble-server-version')).toEqual(['1.19.4-ts']);
      expect(responses).toHaveLength(1);
      expect(responses[0]).toMatchObject({ node_name: 'k8s1', flow: { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', l4: { UDP: { source_port: 1002, destination_port: 53 } } } });
    }
  });

  it('answers ServerStatus, health and reflection', async () => {
    const client = clients[0] as GrpcJsHubbleClient;
    expect(await client.serverStatus()).toMatchObject({ num_flows: '5', max_flows: '4095', version: '1.19.4-ts', num_connected_nodes: null });
    expect(await client.healthCheck('hubble.server.Observer')).toBe('SERVING');
    expect(await client.listServices()).toContain('observer.Observer');
  });
});
