import { PeerRegistry, startHubbleServer } from '@cilium-ts/hubble';
import { createTestPki, testObserver } from '@cilium-ts/hubble/testing';
import { startHubbleRelay } from '@cilium-ts/hubble-relay';
import { afterAll, describe, expect, it } from 'vitest';
import { runHubble } from './hubble-program.js';

async function hubble(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runHubble(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {} });
  return { code, out, err };
}

describe('hubble CLI to a relay that requires mutual TLS', () => {
  const pki = createTestPki();
  afterAll(() => pki.remove());

  it('connects with --tls-ca-cert-files, a client certificate and --tls-server-name; fails without the certificate', async () => {
    const relayCert = pki.issue('relay', ['hubble-relay.cilium.io']);
    const cliCert = pki.issue('cli', ['hubble-cli.cilium.io']);
    const node = testObserver('k8s1');
    node.udp(Date.now() - 1000, 4242);
    const peers = new PeerRegistry();
    const server = await startHubbleServer({ observer: node.observer, nodeName: 'k8s1', version: '1.19.4-ts', peers, tcp: { host: '127.0.0.1', port: 0 } });
    peers.set({ name: 'k8s1', address: server.address });
    const relay = await startHubbleRelay({
      listen: { host: '127.0.0.1', port: 0 },
      peerService: server.address,
      version: '1.19.4-ts',
      serverTls: { cert: relayCert.cert, key: relayCert.key, clientCa: pki.ca },
      backoffMinMs: 100,
    });
    try {
      const base = ['--server', `127.0.0.1:${relay.address.port}`, '--tls', '--tls-ca-cert-files', pki.caFile, '--tls-server-name', 'hubble-relay.cilium.io'];
      const deadline = Date.now() + 10_000;
      while (!relay.peers().some((p) => p.available) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const ok = await hubble(['observe', ...base, '--tls-client-cert-file', cliCert.certFile, '--tls-client-key-file', cliCert.keyFile, '--last', '1']);
      expect(ok.err).toBe('');
      expect(ok.out).toContain('x/a:4242');
      const refused = await hubble(['observe', ...base, '--last', '1']);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/^Error: observe: 127\.0\.0\.1:\d+: /);
    } finally {
      await relay.close();
      await server.close();
    }
  });
});
