import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { Kvstore } from './kvstore.js';
import { TxnBatcher } from './txn-batcher.js';

describe('TxnBatcher', () => {
  let etcd: EtcdServer;
  let kv: Kvstore;
  let batcher: TxnBatcher;
  beforeAll(async () => {
    etcd = await EtcdServer.start();
    kv = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'node-a' });
    batcher = new TxnBatcher(kv);
  });
  afterAll(async () => {
    await kv?.close();
    await etcd?.destroy();
  });

  const create = (key: string, failureGet = key) =>
    batcher.txn(`create ${key}`, [{ kind: 'absent', key }], [{ kind: 'put', key, value: 'v', leased: true }], [
      { kind: 'get', key: failureGet },
    ]);

  it('commits transactions queued in one tick as a single etcd transaction', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => create(`b1/${i}`)));
    expect(results.every((r) => r.succeeded)).toBe(true);
    // One transaction: one revision for all of them.
    expect(new Set(results.map((r) => r.revision)).size).toBe(1);
    const stored = await kv.list('b1/');
    expect(stored.pairs).toHaveLength(20);
    expect(new Set(stored.pairs.map((p) => p.modRevision)).size).toBe(1);
  });

  it('gives each its own outcome when one of the batch conflicts', async () => {
    await kv.put('b2/taken', 'someone-else');
    const [a, taken, b] = await Promise.all([create('b2/a'), create('b2/taken'), create('b2/b')]);
    expect(a.succeeded).toBe(true);
    expect(b.succeeded).toBe(true);
    expect(taken.succeeded).toBe(false);
    expect(taken.ranges[0]?.[0]?.value).toBe('someone-else');
  });

  it('never writes one key twice in a transaction: the clashing one goes in another', async () => {
    const results = await Promise.all([create('b3/same'), create('b3/same'), create('b3/other')]);
    // etcd would have refused the whole batch; instead exactly one of the two creates wins.
    expect(results.map((r) => r.succeeded).filter(Boolean)).toHaveLength(2);
    expect(results[2]!.succeeded).toBe(true);
  });
});
