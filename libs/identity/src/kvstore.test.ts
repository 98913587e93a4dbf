import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { Kvstore } from './kvstore.js';

describe('Kvstore', () => {
  let etcd: EtcdServer;
  let kv: Kvstore;
  beforeAll(async () => {
    etcd = await EtcdServer.start();
    kv = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'node-a', leaseTtlSeconds: 5 });
  });
  afterAll(async () => {
    await kv?.close();
    await etcd?.destroy();
  });

  it('guards a transaction on a whole prefix being empty', async () => {
    const first = await kv.txn('test', [{ kind: 'prefixEmpty', prefix: 'p/' }], [{ kind: 'put', key: 'p/a', value: '1' }]);
    expect(first.succeeded).toBe(true);
    const second = await kv.txn('test', [{ kind: 'prefixEmpty', prefix: 'p/' }], [{ kind: 'put', key: 'p/b', value: '2' }], [{ kind: 'list', prefix: 'p/' }]);
    expect(second.succeeded).toBe(false);
    expect(second.ranges[0]?.map((p) => p.key)).toEqual(['p/a']);
  });

  it('puts owned keys under its lease', async () => {
    await kv.putOwned('own/x', 'v');
    const pair = await kv.get('own/x');
    expect(pair?.value).toBe('v');
    expect(pair?.lease).toBe(await kv.leaseId());
    expect(kv.status().state).toBe('connected');
  });
});
