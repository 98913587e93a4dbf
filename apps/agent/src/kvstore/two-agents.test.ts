// Two agents in one process, each with its own node name, API socket and state dir, sharing a real etcd (the
// datapath is the placeholder): identities agree across nodes, each node learns the other's endpoint IPs and
// registration, and policy follows identities that appear on the other node.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiError, ClusterNodesResponse, Endpoint, Policy, PolicyExplainResponse, StatusResponse } from '@cilium-ts/agent-api';
import { IPCacheSync, Kvstore, VALUE_PREFIX } from '@cilium-ts/identity';
import { EtcdServer } from '../../../../libs/identity/src/testing/etcd-server.js';
import { buildConfig } from '../config.js';
import { startAgent, type RunningAgent } from '../daemon.js';
import type { PolicyMapEntry } from '../seams.js';
import { unixRequest } from '../testing/unix-http.js';
import { ClusterIpcache } from './cluster-state.js';
import { KvstoreIpcachePublisher } from './kvstore-ipcache-publisher.js';
import { wireSeams, type WiredSeams } from '../wiring.js';

interface Node {
  agent: RunningAgent;
  wired: WiredSeams;
  socket: string;
}

const NS = 'k8s:io.kubernetes.pod.namespace=default';

const ALLOW_CLIENT = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: allow-client, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
    - fromEndpoints: [{matchLabels: {app: client}}]
      toPorts: [{ports: [{port: "80", protocol: TCP}]}]
`;

const DENY_BLOCKED = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny-blocked, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingressDeny:
    - fromEndpoints: [{matchLabels: {role: blocked}}]
`;

describe('two agents sharing etcd', () => {
  let etcd: EtcdServer;
  let dir: string;
  let a: Node;
  let b: Node;

  async function startNode(name: string, nodeIP: string, podCIDR: string): Promise<Node> {
    const socket = join(dir, `${name}.sock`);
    const config = buildConfig({
      'node-name': name,
      'node-ip': nodeIP,
      'pod-cidr': podCIDR,
      'socket-path': socket,
      'state-dir': join(dir, name),
      'metrics-address': '',
      'kvstore-endpoints': etcd.endpoint,
    });
    // The datapath stays a placeholder: nothing is written to the kernel of this machine's namespace.
    const wired = await wireSeams(config, { datapath: false });
    return { agent: await startAgent(config, wired.seams), wired, socket };
  }

  async function createEndpoint(node: Node, id: number, ip: string, labels: string[]): Promise<Endpoint> {
    const res = await unixRequest<Endpoint>(node.socket, 'PUT', `/v1/endpoint/${id}`, {
      labels: [NS, ...labels],
      addressing: { ipv4: ip },
      'sync-build-endpoint': true,
    });
    expect(res.status).toBe(201);
    return (await unixRequest<Endpoint>(node.socket, 'GET', `/v1/endpoint/${id}`)).body;
  }

  const identityOf = (node: Node, id: number) => node.agent.endpoints.get(id)!.identity!;
  const ingress = (node: Node, id: number): PolicyMapEntry[] => node.agent.endpoints.policyEntries(id).filter((e) => e.direction === 'ingress');

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    dir = await mkdtemp(join(tmpdir(), 'agent-two-nodes-'));
    a = await startNode('node-a', '192.168.50.1', '10.0.1.0/24');
    b = await startNode('node-b', '192.168.50.2', '10.0.2.0/24');
  });

  afterAll(async () => {
    try {
      for (const n of [a, b]) {
        await n?.agent.stop();
        await n?.wired.close();
      }
    } finally {
      await etcd?.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives the same labels the same identity on both nodes, and the init identity to an endpoint without labels', async () => {
    await createEndpoint(a, 101, '10.0.1.11', ['k8s:app=server', 'k8s:pod-template-hash=abc']);
    await createEndpoint(b, 201, '10.0.2.21', ['k8s:app=server', 'k8s:pod-template-hash=def']);
    const onA = identityOf(a, 101);
    expect(onA).toBeGreaterThanOrEqual(256);
    // pod-template-hash is not security relevant (upstream's default filter), so both pods share an identity.
    expect(identityOf(b, 201)).toBe(onA);
    const { body } = await unixRequest<{ id: number; labels: string[] }>(b.socket, 'GET', `/v1/identity/${onA}`);
    expect(body.labels).toEqual(['k8s:app=server', NS]);

    const res = await unixRequest<Endpoint>(a.socket, 'PUT', '/v1/endpoint/102', { labels: [], addressing: { ipv4: '10.0.1.12' }, 'sync-build-endpoint': true });
    expect(res.status).toBe(201);
    expect(identityOf(a, 102)).toBe(5);
    await unixRequest(a.socket, 'DELETE', '/v1/endpoint/102');
  });

  it("lets node B's cluster ipcache learn node A's endpoint IP with its identity and host IP", async () => {
    await vi.waitFor(() =>
      expect(b.wired.cluster!.ipcache.list()).toContainEqual(
        expect.objectContaining({ ip: '10.0.1.11', prefix: '10.0.1.11/32', identity: identityOf(a, 101), hostIP: '192.168.50.1', node: 'node-a' }),
      ),
    );
    // Its own entries are there too, for the datapath's ipcache map.
    expect(b.wired.cluster!.ipcache.list()).toContainEqual(expect.objectContaining({ ip: '10.0.2.21', node: 'node-b', hostIP: '192.168.50.2' }));
    // What the datapath adapter reads: the other nodes (with their pod CIDRs) and every node's IPs.
    const view = b.wired.view;
    await vi.waitFor(() => expect(view.nodes()).toEqual([{ name: 'node-a', ip: '192.168.50.1', podCidr: '10.0.1.0/24' }]));
    expect(view.ipcache()).toContainEqual({ prefix: '10.0.1.11/32', identity: identityOf(a, 101), hostIP: '192.168.50.1' });
  });

  it('withdraws a deleted endpoint from the cluster ipcache and releases its identity reference', async () => {
    await createEndpoint(a, 103, '10.0.1.13', ['k8s:app=short-lived']);
    await vi.waitFor(() => expect(b.wired.cluster!.ipcache.list().map((e) => e.ip)).toContain('10.0.1.13'));
    const observer = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'observer' });
    try {
      const references = async () => (await observer.list(VALUE_PREFIX)).pairs.map((p) => p.key).filter((k) => k.includes('app=short-lived'));
      expect(await references()).toEqual([expect.stringMatching(/\/node-a$/)]);
      expect((await unixRequest(a.socket, 'DELETE', '/v1/endpoint/103')).status).toBe(200);
      await vi.waitFor(() => expect(b.wired.cluster!.ipcache.list().map((e) => e.ip)).not.toContain('10.0.1.13'));
      expect(await references()).toEqual([]);
    } finally {
      await observer.close();
    }
  });

  it("removes a node's entries left from a previous run once the grace period has passed without their endpoint", async () => {
    // node-c's earlier run published 10.0.3.9; its new run has no endpoint with that IP.
    const earlier = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'node-c' });
    const earlierSync = new IPCacheSync(earlier);
    await earlierSync.upsert({ ip: '10.0.3.9', identity: 5, hostIP: '192.168.50.3' });
    await earlierSync.close();
    await earlier.close({ revokeLease: false });
    await vi.waitFor(() => expect(b.wired.cluster!.ipcache.list().map((e) => e.ip)).toContain('10.0.3.9'));

    const kv = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'node-c' });
    const sync = new IPCacheSync(kv);
    const view = new ClusterIpcache(sync);
    const publisher = new KvstoreIpcachePublisher(sync, view, 'node-c', '192.168.50.3', 0);
    try {
      await publisher.update({ prefix: '10.0.3.10/32', identity: 5, source: 'endpoint' });
      await publisher.prune([]);
      await vi.waitFor(() => expect(b.wired.cluster!.ipcache.list().map((e) => e.ip)).not.toContain('10.0.3.9'));
      expect(b.wired.cluster!.ipcache.list().map((e) => e.ip)).toContain('10.0.3.10');
    } finally {
      publisher.close();
      view.close();
      await sync.close();
      await kv.close();
    }
  });

  it('lists both nodes in GET /v1/cluster/nodes and in the cluster state', async () => {
    await vi.waitFor(async () => {
      const { body } = await unixRequest<ClusterNodesResponse>(a.socket, 'GET', '/v1/cluster/nodes');
      expect(body.self).toBe('default/node-a');
      expect(body.nodes.map((n) => n.name).sort()).toEqual(['default/node-a', 'default/node-b']);
      expect(body.nodes.find((n) => n.name === 'default/node-b')?.['primary-address'].ipv4).toMatchObject({ ip: '192.168.50.2', 'alloc-range': '10.0.2.0/24' });
    });
    // Each node also announces where its Hubble server is, for the relay's peer discovery.
    expect(a.wired.cluster!.nodes.list()).toContainEqual({
      name: 'node-b',
      cluster: 'default',
      nodeIP: '192.168.50.2',
      podCIDR: '10.0.2.0/24',
      hubblePeerAddress: '192.168.50.2:4244',
      local: false,
    });
    const { body: status } = await unixRequest<StatusResponse>(a.socket, 'GET', '/v1/healthz');
    expect(status.kvstore.state).toBe('Ok');
  });

  it('enforces an imported policy: the selected peer on its port, default deny for others, deny rules win', async () => {
    await createEndpoint(b, 202, '10.0.2.22', ['k8s:app=client']);
    await createEndpoint(b, 203, '10.0.2.23', ['k8s:app=other']);
    await createEndpoint(b, 204, '10.0.2.24', ['k8s:app=client', 'k8s:role=blocked']);
    const client = identityOf(b, 202);
    const other = identityOf(b, 203);
    const blocked = identityOf(b, 204);

    const put = await unixRequest<Policy>(a.socket, 'PUT', '/v1/policy', `${ALLOW_CLIENT}---${DENY_BLOCKED}`, 'application/yaml');
    expect(put.status).toBe(200);
    await vi.waitFor(() => expect(a.agent.endpoints.get(101)).toMatchObject({ policyRevision: put.body.revision, policyEnabled: 'ingress' }));

    const entries = ingress(a, 101);
    expect(entries).toContainEqual(expect.objectContaining({ identity: client, protocol: 6, port: 80, verdict: 'allow' }));
    const allowing = entries.find((e) => e.identity === client)!;
    expect(allowing.derivedFrom).toContainEqual(expect.arrayContaining(['k8s:io.cilium.k8s.policy.name=allow-client']));
    // Nothing for the unselected peer, nor any wildcard allow: default deny.
    expect(entries.filter((e) => e.identity === other || (e.identity === 0 && e.verdict === 'allow'))).toEqual([]);
    // The blocked client is selected by both rules; only the deny reaches the map.
    expect(entries.filter((e) => e.identity === blocked).map((e) => e.verdict)).toEqual(['deny']);
  });

  it("grows the server's entries when a matching pod appears on the other node, without re-importing", async () => {
    const revision = a.agent.endpoints.get(101)!.policyRevision;
    await createEndpoint(b, 205, '10.0.2.25', ['k8s:app=client', 'k8s:version=v2']);
    const newcomer = identityOf(b, 205);
    await vi.waitFor(() => expect(ingress(a, 101)).toContainEqual(expect.objectContaining({ identity: newcomer, protocol: 6, port: 80, verdict: 'allow' })));
    expect(a.agent.endpoints.get(101)!.policyRevision).toBe(revision);
  });

  it('hands the datapath the CIDR prefixes of the policy with their local identities', async () => {
    const toCidr = {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'to-docs', namespace: 'default' },
      spec: { endpointSelector: { matchLabels: { app: 'server' } }, egress: [{ toCIDR: ['192.0.2.0/24'] }] },
    };
    expect((await unixRequest(a.socket, 'PUT', '/v1/policy', toCidr)).status).toBe(200);
    const entry = a.wired.view.ipcache().find((e) => e.prefix === '192.0.2.0/24');
    expect(entry?.identity).toBeGreaterThan(1 << 24);
    await vi.waitFor(() => expect(a.agent.endpoints.policyEntries(101)).toContainEqual(expect.objectContaining({ direction: 'egress', identity: entry!.identity, verdict: 'allow' })));
    const { body: identity } = await unixRequest<{ labels: string[] }>(a.socket, 'GET', `/v1/identity/${entry!.identity}`);
    expect(identity.labels).toContain('cidr:192.0.2.0/24');
    expect((await unixRequest(a.socket, 'DELETE', '/v1/policy?labels=k8s:io.cilium.k8s.policy.name=to-docs')).status).toBe(200);
    expect(a.wired.view.ipcache().find((e) => e.prefix === '192.0.2.0/24')).toBeUndefined();
  });

  it('rejects an invalid policy with the path of the error and leaves enforcement as it was', async () => {
    const before = { revision: a.agent.endpoints.get(101)!.policyRevision, entries: ingress(a, 101) };
    const bad = ALLOW_CLIENT.replace('allow-client', 'allow-more').replace('"80"', '"99999"');
    const res = await unixRequest<ApiError>(a.socket, 'PUT', '/v1/policy', `${DENY_BLOCKED.replace('deny-blocked', 'deny-none')}---${bad}`, 'application/yaml');
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('document 1 (CiliumNetworkPolicy default/allow-more): spec.ingress[0].toPorts[0].ports[0].port');
    const { body: policy } = await unixRequest<Policy>(a.socket, 'GET', '/v1/policy');
    // All or nothing: the valid first document was not taken either.
    expect(policy.revision).toBe(before.revision);
    expect(policy.policy).not.toContain('deny-none');
    expect(ingress(a, 101)).toEqual(before.entries);
  });

  it('explains which rule allowed a flow, and reports default deny otherwise', async () => {
    const explainFrom = async (identity: number) =>
      (await unixRequest<PolicyExplainResponse>(a.socket, 'POST', '/v1/policy/explain', { from: { identity }, to: { endpoint: '101' }, dport: 80, protocol: 'TCP' })).body;
    const allowed = await explainFrom(identityOf(b, 202));
    expect(allowed.verdict).toBe('allowed');
    expect(allowed.rules).toContainEqual({
      direction: 'ingress',
      verdict: 'allow',
      labels: ['k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy', 'k8s:io.cilium.k8s.policy.name=allow-client', 'k8s:io.cilium.k8s.policy.namespace=default'],
    });
    const other = await explainFrom(identityOf(b, 203));
    expect(other.verdict).toBe('default-denied');
    expect(other.log.join('\n')).toContain('default deny');
    const blocked = await explainFrom(identityOf(b, 204));
    expect(blocked.verdict).toBe('denied');
    expect(blocked.rules.map((r) => r.verdict)).toEqual(['deny']);
  });

  it('restarts with its endpoints, identities and policy, and computes the same entries', async () => {
    const before = { identity: identityOf(a, 101), entries: ingress(a, 101) };
    const withdrawnOnB: string[] = [];
    const stopWatching = b.wired.cluster!.ipcache.onChange((c) => c.kind === 'delete' && withdrawnOnB.push(c.value.ip));
    await a.agent.stop();
    await a.wired.close();
    const restartedAt = new Date().toISOString();
    a = await startNode('node-a', '192.168.50.1', '10.0.1.0/24');
    expect(a.agent.endpoints.get(101)).toMatchObject({ identity: before.identity, state: 'ready', policyEnabled: 'ingress' });
    // The restored regeneration already knew the cluster's identities: no later one for identities arriving.
    expect(ingress(a, 101)).toEqual(before.entries);
    const sinceRestart = a.agent.endpoints.get(101)!.log.filter((l) => l.timestamp >= restartedAt).map((l) => l.message);
    expect(sinceRestart.some((m) => m.startsWith('regenerated (restore)'))).toBe(true);
    expect(sinceRestart.filter((m) => m.includes('identities changed'))).toEqual([]);
    // Node B never lost node A's endpoint while A restarted. etcd delivers events in order, so once B sees
    // an endpoint A creates after the restart, it has seen anything A withdrew during it.
    await createEndpoint(a, 104, '10.0.1.14', ['k8s:app=after-restart']);
    await vi.waitFor(() => expect(b.wired.cluster!.ipcache.list().map((e) => e.ip)).toContain('10.0.1.14'));
    stopWatching();
    expect(withdrawnOnB).toEqual([]);
    const { body: policy } = await unixRequest<Policy>(a.socket, 'GET', '/v1/policy');
    expect(JSON.parse(policy.policy).map((d: { metadata: { name: string } }) => d.metadata.name).sort()).toEqual(['allow-client', 'deny-blocked']);
  });
});
