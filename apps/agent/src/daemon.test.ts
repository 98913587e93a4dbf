import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BPFMap, StatusResponse } from '@cilium-ts/agent-api';
import { buildConfig } from './config.js';
import { startAgent, type RunningAgent } from './daemon.js';
import type { IpcacheEntry, IpcachePublisher } from './seams.js';
import { DatapathLoaderDouble, IdentityAllocatorDouble } from './testing/seam-doubles.js';
import { unixRequest } from './testing/unix-http.js';

/** Records what reaches the ipcache target; fails the first update to show the reconciler's retry. */
class IpcacheTargetDouble implements IpcachePublisher {
  readonly entries = new Map<string, number>();
  failNext = 1;
  async update(e: IpcacheEntry): Promise<void> {
    if (this.failNext-- > 0) throw new Error('etcd: context deadline exceeded');
    this.entries.set(e.prefix, e.identity);
  }
  async delete(e: IpcacheEntry): Promise<void> {
    this.entries.delete(e.prefix);
  }
  async prune(desired: readonly IpcacheEntry[]): Promise<void> {
    const keep = new Set(desired.map((d) => d.prefix));
    for (const k of [...this.entries.keys()]) if (!keep.has(k)) this.entries.delete(k);
  }
}

// How a library plugs in: pass its implementation as a seam; the rest of the agent stays the same.
describe('agent with seams plugged in', () => {
  let dir: string;
  let agent: RunningAgent | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-daemon-'));
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('uses the given identity allocator, datapath and ipcache target', async () => {
    const socketPath = join(dir, 'cilium.sock');
    const ipcache = new IpcacheTargetDouble();
    const datapath = new DatapathLoaderDouble();
    agent = await startAgent(
      buildConfig({ 'node-name': 'n1', 'pod-cidr': '10.0.1.0/24', 'socket-path': socketPath, 'state-dir': join(dir, 'state'), 'metrics-address': '' }),
      { identity: new IdentityAllocatorDouble(), datapath, ipcache },
    );
    await unixRequest(socketPath, 'PUT', '/v1/endpoint/3', { labels: ['k8s:app=web'], addressing: { ipv4: '10.0.1.9' }, 'sync-build-endpoint': true });
    expect(agent.endpoints.get(3)).toMatchObject({ identity: 1000, state: 'ready' });
    expect(datapath.calls).toEqual(['attach 3', 'writePolicy 3 (0)']);
    await vi.waitFor(() => expect(ipcache.entries.get('10.0.1.9/32')).toBe(1000));
    const { body: map } = await unixRequest<BPFMap>(socketPath, 'GET', '/v1/map/cilium_ipcache');
    expect(map.cache).toEqual([{ key: '10.0.1.9/32', value: 'identity=1000', 'desired-action': 'ok' }]);
    const { body: status } = await unixRequest<StatusResponse>(socketPath, 'GET', '/v1/healthz');
    expect(status.modules.find((m) => m.module === 'identity')?.message).not.toContain('placeholder');
    expect(status.modules.find((m) => m.module === 'ipcache-sync')?.message).toBe('ipcache: 1 object(s) reconciled');
  });

  it('refuses to start a second agent on a socket that is in use, naming it', async () => {
    const socketPath = join(dir, 'cilium.sock');
    const config = (state: string) => buildConfig({ 'node-name': 'n1', 'pod-cidr': '10.0.1.0/24', 'socket-path': socketPath, 'state-dir': join(dir, state), 'metrics-address': '' });
    agent = await startAgent(config('a'));
    await expect(startAgent(config('b'))).rejects.toThrow(`starting api: another process is already serving on ${socketPath}`);
  });

  it("takes a pod's labels from the pod source and follows their changes", async () => {
    const socketPath = join(dir, 'cilium.sock');
    const pods = join(dir, 'pods');
    const write = async (rel: string, labels: Record<string, string>) => {
      await mkdir(join(pods, rel, '..'), { recursive: true });
      await writeFile(join(pods, rel), JSON.stringify({ labels }));
    };
    await write('namespaces/x.json', { 'kubernetes.io/metadata.name': 'x' });
    await write('pods/x/a.json', { app: 'web' });
    agent = await startAgent(
      buildConfig({ 'node-name': 'n1', 'pod-cidr': '10.0.1.0/24', 'socket-path': socketPath, 'state-dir': join(dir, 'state'), 'metrics-address': '', 'pod-source-dir': pods }),
      { identity: new IdentityAllocatorDouble(), datapath: new DatapathLoaderDouble() },
    );
    // What the CNI plugin sends: the pod's name, no labels.
    await unixRequest(socketPath, 'PUT', '/v1/endpoint/container-id:c1', { 'k8s-namespace': 'x', 'k8s-pod-name': 'a', addressing: { ipv4: '10.0.1.9' }, 'sync-build-endpoint': true });
    const ep = () => agent!.endpoints.find({ kind: 'pod-name', namespace: 'x', podName: 'a' })!;
    expect(ep().labels).toEqual([
      'k8s:app=web',
      'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=x',
      'k8s:io.cilium.k8s.policy.cluster=default',
      'k8s:io.kubernetes.pod.namespace=x',
    ]);

    await write('pods/x/a.json', { app: 'api' });
    await vi.waitFor(() => expect(ep().labels).toContain('k8s:app=api'), { timeout: 5000 });
    await vi.waitFor(() => expect(ep().state).toBe('ready'));
  });
});
