// etcd going away: reads keep working from the cache, allocations wait and then complete, the
// watch resumes, the lease and this node's references come back. Nothing lost, nothing doubled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from './etcd-server.js';
import { eventually, startNode, type TestNode } from './cluster.js';
import { TcpProxy } from './tcp-proxy.js';
import { collectGarbage } from '../src/gc.js';
import { idKey, labelsKey, valueKey } from '../src/identity-keys.js';

async function idKeysByLabels(node: TestNode): Promise<Map<string, number[]>> {
  const { pairs } = await node.kv.list('cilium/state/identities/v1/id/');
  const byLabels = new Map<string, number[]>();
  for (const p of pairs) byLabels.set(p.value, [...(byLabels.get(p.value) ?? []), Number(p.key.split('/').pop())]);
  return byLabels;
}

describe('etcd faults', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await EtcdServer.start();
  });
  afterAll(async () => {
    await etcd?.destroy();
  });

  it('etcd killed and restarted during allocations: every allocation completes once, with one id per label set', async () => {
    const a = await startNode(etcd.endpoint, 'node-a', { retryMaxMs: 500 });
    const b = await startNode(etcd.endpoint, 'node-b', { retryMaxMs: 500 });
    try {
      const known = await a.allocator.allocate(['k8s:app=before-outage']);
      await eventually(() => b.cache.lookupById(known.identity.id));
      const sets = Array.from({ length: 100 }, (_, i) => [`k8s:app=outage-${i}`]);
      const pending = sets.map((s, i) => (i % 2 ? a : b).allocator.allocate(s));
      const pendingOther = sets.map((s, i) => (i % 2 ? b : a).allocator.allocate(s));
      await etcd.stop();
      // Reads keep working from the cache while etcd is down.
      expect(b.cache.lookupById(known.identity.id)?.labelString).toBe('k8s:app=before-outage;');
      const late = a.allocator.allocate(['k8s:app=during-outage']);
      const status = await eventually(() => (a.kv.status().state === 'reconnecting' ? a.kv.statusText() : undefined));
      expect(status).toMatch(/^kvstore: unreachable, retrying in /);
      await new Promise((r) => setTimeout(r, 1000));
      await etcd.start();
      const [first, second, duringOutage] = await Promise.all([Promise.all(pending), Promise.all(pendingOther), late]);
      expect(first.map((r) => r.identity.id)).toEqual(second.map((r) => r.identity.id));
      expect(new Set(first.map((r) => r.identity.id)).size).toBe(100);
      const byLabels = await idKeysByLabels(a);
      for (const s of sets) expect(byLabels.get(`${s[0]};`)).toHaveLength(1);
      expect(byLabels.get('k8s:app=during-outage;')).toEqual([duringOutage.identity.id]);
      // Both nodes hold their reference to every label set.
      for (const r of first.slice(0, 10)) {
        expect(await a.kv.get(valueKey(r.identity.labelString, 'node-a'))).toBeDefined();
        expect(await a.kv.get(valueKey(r.identity.labelString, 'node-b'))).toBeDefined();
      }
      // The watch resumed: b learns an identity allocated by a after the restart.
      const after = await a.allocator.allocate(['k8s:app=after-outage']);
      await eventually(() => b.cache.lookupById(after.identity.id));
      expect(a.kv.status().state).toBe('connected');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a partition longer than the lease TTL: references expire and the identity is collected, then both come back under a new lease', async () => {
    const proxy = await TcpProxy.start(etcd.clientPort);
    const node = await startNode(proxy.endpoint, 'node-p', { leaseTtlSeconds: 2, retryMaxMs: 500 });
    const observer = await startNode(etcd.endpoint, 'observer');
    try {
      const { identity } = await node.allocator.allocate(['k8s:app=partitioned']);
      const ref = valueKey(identity.labelString, 'node-p');
      const leaseBefore = (await observer.kv.get(ref))?.lease;
      expect(leaseBefore).toBeDefined();
      proxy.cut();
      await eventually(async () => (await observer.kv.get(ref)) === undefined, 15_000);
      // The operator collects the now unreferenced identity meanwhile.
      const marks = new Map();
      await collectGarbage(observer.kv, { graceMs: 0, marks });
      expect((await collectGarbage(observer.kv, { graceMs: 0, marks })).deleted).toContain(identity.id);
      // Still answered from the cache while cut off.
      expect(node.cache.lookupByLabels(['k8s:app=partitioned'])?.id).toBe(identity.id);
      proxy.restore();
      const restored = await eventually(() => observer.kv.get(ref), 20_000);
      expect(restored.value).toBe(String(identity.id));
      expect(restored.lease).not.toBe(leaseBefore);
      // This node's endpoints still use the id, so it was re-created with the same number.
      expect((await observer.kv.get(idKey(identity.id)))?.value).toBe(identity.labelString);
      expect((await observer.kv.get(labelsKey(identity.labelString)))?.value).toBe(String(identity.id));
    } finally {
      await node.close();
      await observer.close();
      await proxy.close();
    }
  });

  it('etcd replaced by an empty one: identities, references and leased keys are re-created, the cache relists', async () => {
    const node = await startNode(etcd.endpoint, 'node-w', { leaseTtlSeconds: 5, retryMaxMs: 500 });
    try {
      const { identity } = await node.allocator.allocate(['k8s:app=survivor']);
      await node.kv.putOwned('cilium/state/nodes/v1/default/node-w', '{}');
      await eventually(() => node.cache.lookupById(identity.id));
      await etcd.wipe();
      // Still known locally while etcd is empty.
      expect(node.cache.lookupByLabels(['k8s:app=survivor'])?.id).toBe(identity.id);
      // The keep-alive finds the lease gone; the node puts back everything it owns.
      const ref = await eventually(() => node.kv.get(valueKey(identity.labelString, 'node-w')), 20_000);
      expect(ref.value).toBe(String(identity.id));
      expect((await node.kv.get(idKey(identity.id)))?.value).toBe(identity.labelString);
      expect(await node.kv.get('cilium/state/nodes/v1/default/node-w')).toBeDefined();
      // New allocations elsewhere reach this node's cache again.
      const other = await startNode(etcd.endpoint, 'node-x');
      try {
        const fresh = await other.allocator.allocate(['k8s:app=after-wipe']);
        await eventually(() => node.cache.lookupById(fresh.identity.id));
        expect(fresh.identity.id).not.toBe(identity.id);
      } finally {
        await other.close();
      }
    } finally {
      await node.close();
    }
  });
});
