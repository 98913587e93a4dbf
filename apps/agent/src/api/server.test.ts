import { stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../config.js';
import { startAgent, type RunningAgent } from '../daemon.js';
import { unixRequest } from '../testing/unix-http.js';
import type { ApiError, BPFMap, BPFMapList, ClusterNodesResponse, DaemonConfiguration, Endpoint, Identity, IPAMResponse, Metric, Policy, StatusResponse } from '@cilium-ts/agent-api';

// The whole agent with its placeholder seams, talked to over its real unix socket.
describe('REST API on the unix socket', () => {
  let dir: string;
  let agent: RunningAgent;
  let socketPath: string;
  const api = <T>(method: string, path: string, body?: unknown, contentType?: string) => unixRequest<T>(socketPath, method, path, body, contentType);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-api-'));
    socketPath = join(dir, 'cilium.sock');
    agent = await startAgent(
      buildConfig({ 'node-name': 'node-1', 'node-ip': '192.168.50.1', 'pod-cidr': '10.0.1.0/24', 'socket-path': socketPath, 'state-dir': join(dir, 'state'), 'metrics-address': '' }),
    );
  });
  afterAll(async () => {
    await agent?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves on a socket only root can use', async () => {
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
  });

  it('GET /v1/healthz reports the daemon, kvstore, IPAM and every module', async () => {
    const { status, body } = await api<StatusResponse>('GET', '/v1/healthz');
    expect(status).toBe(200);
    expect(body.cilium.state).toBe('Ok');
    expect(body.kvstore.state).toBe('Disabled');
    expect(body.cluster.self).toBe('default/node-1');
    expect(body.routing.mode).toBe('vxlan');
    expect(body.modules.map((m) => m.module)).toEqual(expect.arrayContaining(['api', 'endpoint-manager', 'ipam', 'identity', 'policy', 'datapath']));
    expect(body.modules.find((m) => m.module === 'identity')?.message).toContain('placeholder');
  });

  it('PUT /v1/endpoint/{id} with sync-build-endpoint answers once the endpoint is ready', async () => {
    const ipam = await api<IPAMResponse>('POST', '/v1/ipam?family=ipv4&owner=x/a');
    expect(ipam.status).toBe(201);
    expect(ipam.body.ipv4).toEqual({ ip: '10.0.1.2', gateway: '10.0.1.1', cidrs: ['10.0.1.0/24'] });
    const put = await api<Endpoint>('PUT', '/v1/endpoint/container-id:c-a', {
      'container-id': 'c-a',
      labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=x'],
      addressing: { ipv4: ipam.body.address.ipv4 },
      'interface-name': 'lxc-a',
      'interface-index': 31,
      mac: '02:00:00:00:00:0a',
      'k8s-pod-name': 'a',
      'k8s-namespace': 'x',
      'sync-build-endpoint': true,
    });
    expect(put.status).toBe(201);
    expect(put.body.status.state).toBe('ready');
    expect(put.body.status.identity?.id).toBe(5);
    expect(put.body.status.networking.addressing).toEqual([{ ipv4: '10.0.1.2' }]);
    const id = put.body.id;

    for (const ref of [String(id), 'container-id:c-a', 'pod-name:x:a']) {
      const got = await api<Endpoint>('GET', `/v1/endpoint/${encodeURIComponent(ref)}`);
      expect(got.status, ref).toBe(200);
      expect(got.body.id).toBe(id);
    }
    const list = await api<Endpoint[]>('GET', '/v1/endpoint');
    expect(list.body.map((e) => e.status['external-identifiers']['pod-name'])).toEqual(['x/a']);
    const health = await api<{ overallHealth: string }>('GET', `/v1/endpoint/${id}/healthz`);
    expect(health.body.overallHealth).toBe('OK');
  });

  it('PATCH /v1/endpoint/{id}/labels changes the labels', async () => {
    const { status, body } = await api<Endpoint>('PATCH', '/v1/endpoint/pod-name:x:a/labels', { add: ['k8s:tier=front'], delete: ['k8s:app'] });
    expect(status).toBe(200);
    expect(body.status.labels.realized.user).toEqual(['k8s:io.kubernetes.pod.namespace=x', 'k8s:tier=front']);
  });

  it('answers bad requests with 4xx and a message naming what is wrong', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', '/v1/endpoint/12', { labels: 'app=web' }, 400, 'body/labels must be array'],
      ['PUT', '/v1/endpoint/12', { mac: 'zz' }, 400, 'body/mac must match pattern'],
      ['PUT', '/v1/endpoint/12', { addressing: { ipv4: '10.0.1.300' } }, 400, 'body/addressing/ipv4 must match format "ipv4"'],
      ['PUT', '/v1/endpoint/12', { 'container-id': 'c-a' }, 409, 'endpoint with container-id c-a already exists'],
      ['PUT', '/v1/endpoint/12', { id: 13 }, 400, 'id: body says 13 but the path says 12'],
      ['GET', '/v1/endpoint/9999', undefined, 400, 'must be between 1 and 4095'],
      ['GET', '/v1/endpoint/77', undefined, 404, 'endpoint 77 not found'],
      ['DELETE', '/v1/endpoint/pod-name:x:zz', undefined, 404, 'endpoint pod-name:x:zz not found'],
      ['POST', '/v1/ipam?family=ipv6', undefined, 400, 'IPv6 is not enabled on this node'],
      ['POST', '/v1/ipam?family=ipv5', undefined, 400, 'querystring/family must be equal to one of the allowed values'],
      ['POST', '/v1/ipam/10.0.1.2', undefined, 409, 'IPAM: 10.0.1.2 is already allocated to x/a'],
      ['POST', '/v1/ipam/10.0.9.2', undefined, 400, "not in this node's pod CIDR"],
      ['DELETE', '/v1/ipam/10.0.1.99', undefined, 404, 'IPAM: 10.0.1.99 is not allocated'],
      ['GET', '/v1/identity/abc', undefined, 400, 'identity "abc" is not a number'],
      ['GET', '/v1/identity/424242', undefined, 404, 'identity 424242 not found'],
      ['PATCH', '/v1/config', { options: { Conntrack: 'Enabled' } }, 400, 'options.Conntrack: unknown or immutable option'],
      ['PATCH', '/v1/config', { 'policy-enforcement': 'sometimes' }, 400, 'body/policy-enforcement must be equal to one of the allowed values'],
      ['PUT', '/v1/policy', { kind: 'CiliumNetworkPolicy', metadata: {} }, 400, '[0].metadata.name: is required'],
      ['DELETE', '/v1/policy', undefined, 400, 'labels: give the labels of the rules to delete'],
      ['POST', '/v1/policy/explain', { from: {} }, 400, "body must have required property 'to'"],
      ['POST', '/v1/policy/explain', { from: { endpoint: '1' }, to: { identity: 2 }, dport: 80 }, 501, 'policy explain is not available in this build'],
      ['GET', '/v1/map/cilium_nothing', undefined, 404, 'map cilium_nothing not found'],
      ['GET', '/v1/nothing', undefined, 404, 'no such API path: GET /v1/nothing'],
    ];
    for (const [method, path, body, status, message] of cases) {
      const res = await api<ApiError>(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.body.message, `${method} ${path}`).toContain(message);
      expect(typeof res.body.code).toBe('string');
    }
  });

  it('GET and PATCH /v1/config', async () => {
    const got = await api<DaemonConfiguration>('GET', '/v1/config');
    expect(got.body.status.immutable['pod-cidr']).toBe('10.0.1.0/24');
    expect(got.body.status.addressing.ipv4).toEqual({ enabled: true, ip: '10.0.1.1', 'alloc-range': '10.0.1.0/24' });
    const patched = await api<DaemonConfiguration>('PATCH', '/v1/config', { 'policy-enforcement': 'always', options: { Debug: 'Enabled' } });
    expect(patched.body.spec).toEqual({ options: { Debug: 'Enabled' }, 'policy-enforcement': 'always' });
  });

  it('imports, lists and deletes policy (YAML or JSON bodies)', async () => {
    const before = await api<Policy>('GET', '/v1/policy');
    const yaml = ['apiVersion: cilium.io/v2', 'kind: CiliumNetworkPolicy', 'metadata: {name: allow-web, namespace: x}', 'spec: {endpointSelector: {}}', '---', 'apiVersion: networking.k8s.io/v1', 'kind: NetworkPolicy', 'metadata: {name: deny-all}', 'spec: {podSelector: {}}'].join('\n');
    const put = await api<Policy>('PUT', '/v1/policy', yaml, 'application/yaml');
    expect(put.status).toBe(200);
    expect(put.body.revision).toBe(before.body.revision + 1);
    const got = await api<Policy>('GET', '/v1/policy');
    expect((JSON.parse(got.body.policy) as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toEqual(['allow-web', 'deny-all']);
    const del = await api<{ deleted: number }>('DELETE', '/v1/policy?labels=k8s:io.cilium.k8s.policy.name=allow-web');
    expect(del.body.deleted).toBe(1);
    const delAll = await api<{ deleted: number }>('DELETE', '/v1/policy?all=true');
    expect(delAll.body.deleted).toBe(1);
  });

  it('lists identities, maps, nodes and metrics', async () => {
    const ids = await api<Identity[]>('GET', '/v1/identity');
    expect(ids.body.find((i) => i.id === 2)?.labels).toEqual(['reserved:world']);
    expect((await api<Identity>('GET', '/v1/identity/5')).body).toEqual({ id: 5, labels: ['reserved:init'] });
    const maps = await api<BPFMapList>('GET', '/v1/map');
    expect(maps.body.maps.map((m) => m.name)).toContain('cilium_ipcache');
    const ipcache = await api<BPFMap>('GET', '/v1/map/cilium_ipcache');
    expect(ipcache.body.cache).toContainEqual({ key: '10.0.1.2/32', value: 'identity=5 tunnelendpoint=192.168.50.1', 'desired-action': 'ok' });
    const nodes = await api<ClusterNodesResponse>('GET', '/v1/cluster/nodes');
    expect(nodes.body.nodes[0]?.['primary-address'].ipv4.ip).toBe('192.168.50.1');
    const metrics = await api<Metric[]>('GET', '/v1/metrics/');
    expect(metrics.body).toContainEqual({ name: 'cilium_endpoint', value: 1, labels: {} });
  });

  it('DELETE /v1/endpoint with a container id deletes its endpoints (CNI DEL)', async () => {
    await api<Endpoint>('PUT', '/v1/endpoint/container-id:c-b', { labels: ['k8s:app=b'], 'sync-build-endpoint': true });
    expect((await api<{ deleted: number }>('DELETE', '/v1/endpoint', { 'container-id': 'c-b' })).body).toEqual({ deleted: 1 });
    const again = await api<ApiError>('DELETE', '/v1/endpoint', { 'container-id': 'c-b' });
    expect(again).toEqual({ status: 404, body: { code: 'endpoint-not-found', message: 'no endpoint with container-id c-b' } });
  });

  it('DELETE /v1/endpoint/{id} removes the endpoint and releases its address', async () => {
    const del = await api<object>('DELETE', '/v1/endpoint/container-id:c-a');
    expect(del.status).toBe(200);
    expect((await api<Endpoint[]>('GET', '/v1/endpoint')).body).toEqual([]);
    expect((await api<StatusResponse>('GET', '/v1/healthz')).body.ipam.allocations).toEqual({});
  });
});
