import { createClient } from '@connectrpc/connect';
import { createHubbleTransport } from '@cilium-ts/hubble';
import { createTestPki } from '@cilium-ts/hubble/testing';
import { Observer } from '@cilium-ts/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster } from '../test/relay-cluster.js';

describe('hubble-relay with mutual TLS to the agents', () => {
  const pki = createTestPki();
  afterAll(() => pki.remove());

  it('finds and reads agents that only accept clients with a certificate from their CA', async () => {
    const relayCert = pki.issue('relay', ['*.hubble-relay.cilium.io']);
    const cluster = await startCluster(['k8s1', 'k8s2'], {
      server: (name) => {
        const c = pki.issue(name, [`${name}.default.hubble-grpc.cilium.io`]);
        return { cert: c.cert, key: c.key, clientCa: pki.ca };
      },
      client: { ca: pki.ca, cert: relayCert.cert, key: relayCert.key },
    });
    const transport = createHubbleTransport(`127.0.0.1:${cluster.relay.address.port}`);
    try {
      cluster.nodes.forEach((n, i) => n.udp(Date.now() - 1000 + i, 1000 + i));
      expect(cluster.relay.peers().map((p) => [p.name, p.available, p.tls?.serverName])).toEqual([
        ['k8s1', true, 'k8s1.default.hubble-grpc.cilium.io'],
        ['k8s2', true, 'k8s2.default.hubble-grpc.cilium.io'],
      ]);
      const flows = [];
      for await (const r of createClient(Observer, transport.transport).getFlows({ number: 5n })) if (r.responseTypes.case === 'flow') flows.push(r.nodeName);
      expect(flows).toEqual(['k8s1', 'k8s2']);
      const nodes = await createClient(Observer, transport.transport).getNodes({});
      expect(nodes.nodes.map((n) => n.tls?.enabled)).toEqual([true, true]);
    } finally {
      transport.close();
      await cluster.close();
    }
  });
});
