import { PeerRegistry, startHubbleServer, type ClientTlsOptions, type HubbleServer, type ServerTlsOptions } from '@cilium-ts/hubble';
import { testObserver } from '@cilium-ts/hubble/testing';
import { startHubbleRelay, type HubbleRelay } from '../src/relay-server.js';

export type TestNode = ReturnType<typeof testObserver> & { readonly name: string; server: HubbleServer };

/** Polls until `check` holds; tests wait for states (peers connected), never for fixed times. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Real Hubble servers (one LocalObserver each, on loopback TCP) that announce each other through
 * Peer/Notify, and a relay that finds them through the first one.
 */
export async function startCluster(names: readonly string[], tls?: { server: (name: string) => ServerTlsOptions; client: ClientTlsOptions }): Promise<{ nodes: TestNode[]; relay: HubbleRelay; close(): Promise<void> }> {
  const peers = new PeerRegistry();
  const nodes: TestNode[] = [];
  for (const name of names) {
    const node = testObserver(name);
    const server = await startHubbleServer({ observer: node.observer, nodeName: name, version: '1.19.4-ts', peers, tcp: { host: '127.0.0.1', port: 0 }, tls: tls?.server(name) });
    nodes.push({ ...node, name, server });
  }
  for (const n of nodes) peers.set({ name: n.name, address: n.server.address, tls: tls ? { serverName: `${n.name}.default.hubble-grpc.cilium.io` } : undefined });
  const relay = await startHubbleRelay({
    listen: { host: '127.0.0.1', port: 0 },
    peerService: nodes[0]?.server.address ?? '',
    version: '1.19.4-ts-relay',
    nodeName: 'hubble-relay',
    clientTls: tls?.client,
    peerServiceServerName: tls ? `${names[0]}.default.hubble-grpc.cilium.io` : undefined,
    sortBufferDrainTimeoutMs: 1000,
    healthListen: { host: '127.0.0.1', port: 0 },
    dialTimeoutMs: 2000,
    retryTimeoutMs: 500,
    backoffMinMs: 100,
    backoffMaxMs: 1000,
  });
  await waitFor('every peer connected', () => relay.peers().filter((p) => p.available).length === names.length);
  return {
    nodes,
    relay,
    async close() {
      await relay.close();
      await Promise.all(nodes.map((n) => n.server.close()));
    },
  };
}
