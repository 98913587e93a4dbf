import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { startNode, type TestNode } from '../test/cluster.js';
import { collectGarbage, type GcMark } from './gc.js';
import { idKey, labelsKey } from './identity-keys.js';

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
});
