// Allocators in separate processes, as separate agents would be. The children run dist/, so
// build first (the nx test target depends on build).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllocatorProcess } from './allocator-process.js';
import { EtcdServer } from './etcd-server.js';
import { eventually, startNode, type TestNode } from './cluster.js';
import { idKey, valueKey, valuePrefix } from '../src/identity-keys.js';

describe('allocators in separate processes', () => {
  let etcd: EtcdServer;
  let observer: TestNode;
  const children: AllocatorProcess[] = [];

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    observer = await startNode(etcd.endpoint, 'observer');
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await observer?.close();
    await etcd?.destroy();
  });

  it('3 processes racing on 200 new label sets agree on every identity, with no collisions', async () => {
    const nodes = await Promise.all(['race-1', 'race-2', 'race-3'].map((n) => AllocatorProcess.start(etcd.endpoint, n)));
    children.push(...nodes);
    const labelSets = Array.from({ length: 200 }, (_, i) => [`k8s:app=race-${i}`, `k8s:io.kubernetes.pod.namespace=ns-${i % 7}`]);
    // Each process gets the sets in a different order, so that every set is contended.
    const orders = [labelSets, [...labelSets].reverse(), [...labelSets.slice(100), ...labelSets.slice(0, 100)]];
    const results = await Promise.all(nodes.map((n, i) => n.allocate(orders[i]!)));
    const byLabels = results.map((r, i) => {
      const m = new Map<string, number>();
      orders[i]!.forEach((set, j) => m.set(set.join(','), r.ids[j]!));
      return m;
    });
    const ids = labelSets.map((set) => byLabels[0]!.get(set.join(','))!);
    for (const m of byLabels.slice(1)) expect(labelSets.map((set) => m.get(set.join(',')))).toEqual(ids);
    expect(new Set(ids).size).toBe(200);
    // Exactly one process created each identity; the others referenced it.
    expect(results.reduce((sum, r) => sum + r.created, 0)).toBe(200);
    // etcd holds one id key per label set, and every process's reference.
    const { pairs } = await observer.kv.list('cilium/state/identities/v1/id/');
    const raceKeys = pairs.filter((p) => p.value.includes('race-'));
    expect(raceKeys).toHaveLength(200);
    expect(new Set(raceKeys.map((p) => p.value)).size).toBe(200);
    const sample = labelSets[42]!;
    const refs = await observer.kv.list(valuePrefix(`k8s:app=race-42;k8s:io.kubernetes.pod.namespace=ns-0;`));
    expect(refs.pairs.map((p) => p.key.split('/').pop()).sort()).toEqual(['race-1', 'race-2', 'race-3']);
    // A node that allocated nothing learned them all through its watch.
    const learned = await eventually(() => observer.cache.lookupByLabels(sample));
    expect(learned.id).toBe(byLabels[0]!.get(sample.join(',')));
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it("drops a killed allocator's references when its lease expires, and keeps the identity", async () => {
    const node = await AllocatorProcess.start(etcd.endpoint, 'doomed', 2);
    children.push(node);
    const { ids } = await node.allocate([['k8s:app=short-lived']]);
    const id = ids[0]!;
    const labels = 'k8s:app=short-lived;';
    expect(await observer.kv.get(valueKey(labels, 'doomed'))).toBeDefined();
    await node.kill();
    // TTL 2 s: etcd expires the lease a few seconds after the last keep-alive.
    await eventually(async () => (await observer.kv.get(valueKey(labels, 'doomed'))) === undefined, 15_000);
    // Identities carry no lease: only the garbage collector removes them.
    expect((await observer.kv.get(idKey(id)))?.value).toBe(labels);
  });
});
