import { createServer, type Server } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PeerHandle } from './peer-manager.js';

/**
 * `--metrics-listen-address`: the relay's Prometheus endpoint, with upstream's peer pool gauge
 * `hubble_relay_pool_peer_connection_status{status}`.
 */
export async function serveRelayMetrics(listen: { host?: string; port: number }, peers: () => readonly PeerHandle[]): Promise<{ port: number; close(): Promise<void> }> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'hubble_relay_pool_peer_connection_status',
    help: 'Measures the connectivity status of all peers by counting the number of peers for each given connection status.',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const all = peers();
      this.set({ status: 'READY' }, all.filter((p) => p.available).length);
      this.set({ status: 'TRANSIENT_FAILURE' }, all.filter((p) => !p.available).length);
    },
  });
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (listen.host) server.listen(listen.port, listen.host, resolve);
    else server.listen(listen.port, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : listen.port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
