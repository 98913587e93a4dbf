import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { startNode, type TestNode } from '../test/cluster.js';
import { collectGarbage, type GcMark } from './gc.js';
import { idKey, labelsKey, valueKey } from './identity-keys.js';

describe('identity garbage collection', () => {
  let etcd: EtcdServer;
  let node: TestNode;
  let operator: TestNode;

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    node = await startNode(etcd.endpoint, 'node-a');
    operator = await startNode(etcd.endpoint, 'operator');
  });
  afterAll(async () => {
    await node?.close();
    await operator?.close();
    await etcd?.destroy();
  });

  it('never removes an identity a node still references', async () => {
    const { identity } = await node.allocator.allocate(['k8s:app=in-use']);
    const marks = new Map<number, GcMark>();
    for (let i = 0; i < 3; i++) {
      const result = await collectGarbage(operator.kv, { graceMs: 0, marks });
      expect(result.alive).toContain(identity.id);
      expect(result.deleted).not.toContain(identity.id);
    }
    expect(await operator.kv.get(idKey(identity.id))).toBeDefined();
  });

  it('marks an unreferenced identity on one run and removes it on a later one after the grace period', async () => {
    const labels = ['k8s:app=abandoned'];
    const { identity } = await node.allocator.allocate(labels);
    await node.allocator.release(labels);
    let clock = 1_000_000;
    const options = { graceMs: 60_000, marks: new Map<number, GcMark>(), now: () => clock };
    expect((await collectGarbage(operator.kv, options)).marked).toContain(identity.id);
    clock += 30_000;
    expect((await collectGarbage(operator.kv, options)).marked).toContain(identity.id);
    expect(await operator.kv.get(idKey(identity.id))).toBeDefined();
    clock += 30_000;
    expect((await collectGarbage(operator.kv, options)).deleted).toContain(identity.id);
    expect(await operator.kv.get(idKey(identity.id))).toBeUndefined();
    expect(await operator.kv.get(labelsKey(identity.labelString))).toBeUndefined();
  });

  it('spares an identity that was referenced again after it was marked', async () => {
    const labels = ['k8s:app=revived'];
    const { identity } = await node.allocator.allocate(labels);
    await node.allocator.release(labels);
    const marks = new Map<number, GcMark>();
    expect((await collectGarbage(operator.kv, { graceMs: 0, marks })).marked).toContain(identity.id);
    const again = await node.allocator.allocate(labels);
    expect(again.identity.id).toBe(identity.id);
    const result = await collectGarbage(operator.kv, { graceMs: 0, marks });
    expect(result.alive).toContain(identity.id);
    expect(result.deleted).not.toContain(identity.id);
  });

  it('lets the labels get a fresh identity once the old one is collected', async () => {
    const labels = ['k8s:app=recycled'];
    const { identity } = await node.allocator.allocate(labels);
    await node.allocator.release(labels);
    const marks = new Map<number, GcMark>();
    await collectGarbage(operator.kv, { graceMs: 0, marks });
    expect((await collectGarbage(operator.kv, { graceMs: 0, marks })).deleted).toContain(identity.id);
    const fresh = await node.allocator.allocate(labels);
    expect(fresh.isNew).toBe(true);
    expect((await operator.kv.get(idKey(fresh.identity.id)))?.value).toBe('k8s:app=recycled;');
  });

  it('racing with allocations and releases on two nodes, never removes an identity in use', async () => {
    const other = await startNode(etcd.endpoint, 'node-b');
    try {
      const sets = Array.from({ length: 12 }, (_, i) => [`k8s:app=churn-${i}`]);
      const held = new Map<TestNode, number[]>([
        [node, sets.map(() => 0)],
        [other, sets.map(() => 0)],
      ]);
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const marks = new Map<number, GcMark>();
      let collecting = true;
      const collector = (async () => {
        let deleted = 0;
        while (collecting) deleted += (await collectGarbage(operator.kv, { graceMs: 0, marks })).deleted.length;
        return deleted;
      })();
      for (let round = 0; round < 40; round++) {
        await Promise.all(
          [node, other].map(async (n) => {
            const counts = held.get(n)!;
            const i = random(sets.length);
            if (counts[i]! > 0 && random(2) === 0) {
              counts[i]!--;
              await n.allocator.release(sets[i]!);
            } else {
              counts[i]!++;
              await n.allocator.allocate(sets[i]!);
            }
          }),
        );
      }
      collecting = false;
      await collector;
      // Every reference a node holds points at an existing identity with its labels, and no label
      // set has two identities.
      const ids = await operator.kv.list('cilium/state/identities/v1/id/');
      const labelsById = new Map(ids.pairs.map((p) => [Number(p.key.split('/').pop()), p.value]));
      const churnIds = ids.pairs.filter((p) => p.value.startsWith('k8s:app=churn-'));
      expect(new Set(churnIds.map((p) => p.value)).size).toBe(churnIds.length);
      for (const n of [node, other]) {
        for (const { identity } of n.allocator.heldIdentities()) {
          if (identity.scope !== 'global') continue;
          expect(labelsById.get(identity.id)).toBe(identity.labelString);
          expect((await operator.kv.get(valueKey(identity.labelString, n.kv.nodeName)))?.value).toBe(String(identity.id));
        }
      }
      // Once everything is released, two runs collect every churned identity.
      for (const [n, counts] of held) {
        for (const [i, count] of counts.entries()) for (let k = 0; k < count; k++) await n.allocator.release(sets[i]!);
      }
      await collectGarbage(operator.kv, { graceMs: 0, marks });
      await collectGarbage(operator.kv, { graceMs: 0, marks });
      const left = (await operator.kv.list('cilium/state/identities/v1/id/')).pairs.filter((p) => p.value.startsWith('k8s:app=churn-'));
      expect(left).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
