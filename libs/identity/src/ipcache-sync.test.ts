import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { eventually, startNode, type TestNode } from '../test/cluster.js';
import { IPCacheSync, type IPCacheEvent } from './ipcache-sync.js';

describe('IPCacheSync', () => {
  let etcd: EtcdServer;
  let a: TestNode;
  let b: TestNode;
  let ipcacheA: IPCacheSync;
  let ipcacheB: IPCacheSync;

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    a = await startNode(etcd.endpoint, 'node-a');
    b = await startNode(etcd.endpoint, 'node-b');
    ipcacheA = new IPCacheSync(a.kv);
    ipcacheB = new IPCacheSync(b.kv);
    await Promise.all([ipcacheA.synced, ipcacheB.synced]);
  });
  afterAll(async () => {
    await ipcacheA?.close();
    await ipcacheB?.close();
    await a?.close();
    await b?.close();
    await etcd?.destroy();
  });

  it("publishes an endpoint's IP with its identity and node IP in upstream's JSON, under the lease", async () => {
    const { identity } = await a.allocator.allocate(['k8s:app=web']);
    await ipcacheA.upsert({ ip: '10.0.1.15', identity: identity.id, hostIP: '192.168.50.1', k8sNamespace: 'default', k8sPodName: 'web-1' });
    const stored = await a.kv.get('cilium/state/ip/v1/default/10.0.1.15');
    expect(JSON.parse(stored!.value)).toEqual({
      IP: '10.0.1.15',
      Mask: null,
      HostIP: '192.168.50.1',
      ID: identity.id,
      Key: 0,
      Metadata: 'cilium-global:default:node-a',
      K8sNamespace: 'default',
      K8sPodName: 'web-1',
    });
    expect(stored!.lease).toBe(await a.kv.leaseId());
  });

  it("lets every node see every other node's entries, and their removal", async () => {
    const events: IPCacheEvent[] = [];
    ipcacheA.onChange((e) => events.push(e));
    await ipcacheB.upsert({ ip: 'fd00::b:7', identity: 4242, hostIP: '192.168.50.2' });
    const entry = await eventually(() => ipcacheA.lookup('fd00::b:7'));
    expect(entry).toMatchObject({ ID: 4242, HostIP: '192.168.50.2' });
    await eventually(() => ipcacheB.lookup('10.0.1.15'));
    await ipcacheB.delete('fd00::b:7');
    await eventually(() => !ipcacheA.entries().has('fd00::b:7'));
    expect(events.map((e) => [e.kind, e.name])).toEqual([
      ['upsert', 'fd00::b:7'],
      ['delete', 'fd00::b:7'],
    ]);
  });

  it('rejects what is not an IP', async () => {
    await expect(ipcacheA.upsert({ ip: '10.0.1', identity: 1, hostIP: '192.168.50.1' })).rejects.toThrow(/"10.0.1" is not an IP address/);
  });
});
