import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { FlowFilterSchema, GetFlowsRequestSchema, Observer, health, peer, reflection, type GetFlowsResponse } from '@cilium-ts/proto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubbleServer, type HubbleServer } from './hubble-server.js';
import { createHubbleTransport, type HubbleTransport } from './hubble-transport.js';
import { PeerRegistry } from './peer-source.js';
import { createTestPki } from './test-certs.js';
import { testObserver } from './test-observer.js';

const T0 = Date.now() - 60_000;
const sport = (r: GetFlowsResponse) => (r.responseTypes.case === 'flow' && r.responseTypes.value.l4?.protocol.case === 'UDP' ? r.responseTypes.value.l4.protocol.value.sourcePort : -1);

async function collect(stream: AsyncIterable<GetFlowsResponse>, max = Infinity): Promise<GetFlowsResponse[]> {
  const out: GetFlowsResponse[] = [];
  for await (const r of stream) {
    out.push(r);
    if (out.length >= max) break;
  }
  return out;
}

describe('startHubbleServer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubble-server-'));
  const node = testObserver('k8s1');
  const peers = new PeerRegistry([{ name: 'k8s1', address: `unix://${join(dir, 'hubble.sock')}` }]);
  let server: HubbleServer;
  let unix: HubbleTransport;
  let tcp: HubbleTransport;

  beforeAll(async () => {
    // Flows 1000..1009, one second apart; 1005 is a drop.
    for (let i = 0; i < 10; i++) node.udp(T0 + i * 1000, 1000 + i, i === 5 ? 'dropped' : 'forwarded');
    server = await startHubbleServer({ observer: node.observer, nodeName: 'k8s1', version: '1.19.4-ts', peers, unixSocket: join(dir, 'hubble.sock'), tcp: { host: '127.0.0.1', port: 0 } });
    unix = createHubbleTransport(`unix://${join(dir, 'hubble.sock')}`);
    tcp = createHubbleTransport(`127.0.0.1:${server.tcp?.port}`);
  });
  afterAll(async () => {
    unix.close();
    tcp.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers GetFlows with the last N flows, oldest first, over the unix socket and TCP alike', async () => {
    for (const t of [unix, tcp]) {
      let version = '';
      const client = createClient(Observer, t.transport);
      const out = await collect(client.getFlows({ number: 3n }, { onHeader: (h) => (version = h.get('hubble-server-version') ?? '') }));
      expect(out.map(sport)).toEqual([1007, 1008, 1009]);
      expect(out.every((r) => r.nodeName === 'k8s1')).toBe(true);
      expect(version).toBe('1.19.4-ts');
    }
  });

  it('honours first, since/until and whitelist/blacklist filters', async () => {
    const client = createClient(Observer, unix.transport);
    expect((await collect(client.getFlows({ number: 2n, first: true }))).map(sport)).toEqual([1000, 1001]);
    const window = await collect(client.getFlows({ since: timestampFromMs(T0 + 2000), until: timestampFromMs(T0 + 4000) }));
    expect(window.map(sport)).toEqual([1002, 1003, 1004]);
    const dropped = await collect(client.getFlows({ number: 100n, whitelist: [create(FlowFilterSchema, { verdict: [2] })] }));
    expect(dropped.map(sport)).toEqual([1005]);
    const notTheseTwo = await collect(client.getFlows({ number: 4n, blacklist: [create(FlowFilterSchema, { sourcePort: ['1009', '1008'] })] }));
    expect(notTheseTwo.map(sport)).toEqual([1004, 1005, 1006, 1007]);
  });

  it('applies the field mask', async () => {
    const client = createClient(Observer, unix.transport);
    const [r] = await collect(client.getFlows({ number: 1n, fieldMask: { paths: ['time', 'verdict'] } }));
    expect(r?.responseTypes.case === 'flow' && r.responseTypes.value.source).toBeUndefined();
    expect(r?.responseTypes.case === 'flow' && r.responseTypes.value.verdict).toBe(1);
  });

  it('follows: a flow observed after the call starts reaches the client', async () => {
    const client = createClient(Observer, tcp.transport);
    const abort = new AbortController();
    const stream = client.getFlows(create(GetFlowsRequestSchema, { follow: true, number: 1n }), { signal: abort.signal });
    const iterator = stream[Symbol.asyncIterator]();
    expect(sport((await iterator.next()).value as GetFlowsResponse)).toBe(1009);
    node.udp(Date.now(), 2000);
    expect(sport((await iterator.next()).value as GetFlowsResponse)).toBe(2000);
    abort.abort();
  });

  it('rejects first with follow as InvalidArgument', async () => {
    const client = createClient(Observer, unix.transport);
    const err = await collect(client.getFlows({ first: true, follow: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it('answers ServerStatus, GetNodes and GetNamespaces for this node', async () => {
    const client = createClient(Observer, unix.transport);
    const status = await client.serverStatus({});
    expect(status.numFlows).toBeGreaterThanOrEqual(10n);
    expect(status.maxFlows).toBe(4095n);
    expect(status.version).toBe('1.19.4-ts');
    expect(status.numConnectedNodes).toBeUndefined();
    const nodes = await client.getNodes({});
    expect(nodes.nodes.map((n) => [n.name, n.state, n.address])).toEqual([['k8s1', 1, `127.0.0.1:${server.tcp?.port}`]]);
    const namespaces = await client.getNamespaces({});
    expect(namespaces.namespaces.map((n) => n.namespace)).toEqual(['x', 'y']);
  });

  it('lists every peer as PEER_ADDED, then streams changes', async () => {
    const client = createClient(peer.Peer, unix.transport);
    const abort = new AbortController();
    const it = client.notify({}, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ name: 'k8s1', type: peer.ChangeNotificationType.PEER_ADDED });
    peers.set({ name: 'k8s2', address: '10.99.0.12:4244', tls: { serverName: 'k8s2.default.hubble-grpc.cilium.io' } });
    expect((await it.next()).value).toMatchObject({ name: 'k8s2', address: '10.99.0.12:4244', type: peer.ChangeNotificationType.PEER_ADDED, tls: { serverName: 'k8s2.default.hubble-grpc.cilium.io' } });
    peers.set({ name: 'k8s2', address: '10.99.0.22:4244' });
    expect((await it.next()).value).toMatchObject({ name: 'k8s2', address: '10.99.0.22:4244', type: peer.ChangeNotificationType.PEER_UPDATED });
    peers.delete('k8s2');
    expect((await it.next()).value).toMatchObject({ name: 'k8s2', type: peer.ChangeNotificationType.PEER_DELETED });
    abort.abort();
  });

  it('answers health SERVING for the Observer and the server, NotFound for others', async () => {
    const client = createClient(health.Health, unix.transport);
    expect((await client.check({ service: 'hubble.server.Observer' })).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    expect((await client.check({ service: '' })).status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    const err = await client.check({ service: 'nope' }).catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it('lists its services through reflection and serves their file descriptors', async () => {
    const client = createClient(reflection.ServerReflection, unix.transport);
    async function* requests() {
      yield create(reflection.ServerReflectionRequestSchema, { messageRequest: { case: 'listServices', value: '' } });
      yield create(reflection.ServerReflectionRequestSchema, { messageRequest: { case: 'fileContainingSymbol', value: 'observer.Observer' } });
    }
    const answers = [];
    for await (const a of client.serverReflectionInfo(requests())) answers.push(a);
    const list = answers[0]?.messageResponse;
    expect(list?.case === 'listServicesResponse' && list.value.service.map((s) => s.name)).toEqual([
      'observer.Observer',
      'peer.Peer',
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
    ]);
    const files = answers[1]?.messageResponse;
    expect(files?.case === 'fileDescriptorResponse' && files.value.fileDescriptorProto.length).toBeGreaterThanOrEqual(3);
  });
});

describe('startHubbleServer with mutual TLS', () => {
  const pki = createTestPki();
  afterAll(() => pki.remove());

  it('serves clients with a certificate from the CA and refuses others', async () => {
    const serverCert = pki.issue('k8s1', ['k8s1.default.hubble-grpc.cilium.io']);
    const clientCert = pki.issue('relay', ['relay.hubble-relay.cilium.io']);
    const node = testObserver('k8s1');
    node.udp(T0, 1000);
    const server = await startHubbleServer({ observer: node.observer, nodeName: 'k8s1', version: '1.19.4-ts', tcp: { host: '127.0.0.1', port: 0 }, tls: { cert: serverCert.cert, key: serverCert.key, clientCa: pki.ca } });
    const address = `127.0.0.1:${server.tcp?.port}`;
    const good = createHubbleTransport(address, { tls: { ca: pki.ca, cert: clientCert.cert, key: clientCert.key, serverName: 'k8s1.default.hubble-grpc.cilium.io' } });
    const anonymous = createHubbleTransport(address, { tls: { ca: pki.ca, serverName: 'k8s1.default.hubble-grpc.cilium.io' } });
    try {
      const status = await createClient(Observer, good.transport).serverStatus({});
      expect(status.numFlows).toBe(1n);
      const err = await createClient(Observer, anonymous.transport).serverStatus({}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
    } finally {
      good.close();
      anonymous.close();
      await server.close();
    }
  });
});
