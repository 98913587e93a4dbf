import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../test/cluster.js';
import { EtcdServer } from '../test/etcd-server.js';
import { TcpProxy } from '../test/tcp-proxy.js';
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

describe('Kvstore lease and faults', () => {
  let etcd: EtcdServer;
  let observer: Kvstore;
  beforeAll(async () => {
    etcd = await EtcdServer.start();
    observer = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'observer' });
  });
  afterAll(async () => {
    await observer?.close();
    await etcd?.destroy();
  });

  it('re-creates its lease and every key it owns when the lease is lost', async () => {
    const kv = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'node-a', leaseTtlSeconds: 3 });
    try {
      await kv.putOwned('owned/one', '1');
      await kv.putOwned('owned/two', '2');
      const oldLease = await kv.leaseId();
      // Someone (an operator, an etcd restore) revokes the lease: its keys vanish at once.
      await observer.client.leaseClient.leaseRevoke({ ID: oldLease });
      expect(await observer.get('owned/one')).toBeUndefined();
      const restored = await eventually(() => observer.get('owned/two'));
      expect(restored.value).toBe('2');
      expect((await observer.get('owned/one'))?.value).toBe('1');
      expect(restored.lease).not.toBe(oldLease);
      expect(restored.lease).toBe(await kv.leaseId());
    } finally {
      await kv.close();
    }
  });

  it('waits out an unreachable etcd, saying so in its status, then completes the write', async () => {
    const proxy = await TcpProxy.start(etcd.clientPort);
    const kv = new Kvstore({ endpoints: proxy.endpoint, nodeName: 'node-b', retryMaxMs: 500 });
    try {
      await kv.leaseId();
      proxy.cut();
      const write = kv.put('waited/key', 'v');
      const status = await eventually(() => (kv.status().state === 'reconnecting' ? kv.statusText() : undefined));
      expect(status).toMatch(/^kvstore: unreachable, retrying in \d+(ms|(\.\d)?s): /);
      expect(await observer.get('waited/key')).toBeUndefined();
      proxy.restore();
      await write;
      expect((await observer.get('waited/key'))?.value).toBe('v');
      expect(kv.status().state).toBe('connected');
    } finally {
      await kv.close();
      await proxy.close();
    }
  });

  it('revokes its lease on close, so its keys go at once', async () => {
    const kv = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'node-c' });
    await kv.putOwned('closing/key', 'v');
    await kv.close();
    expect(await observer.get('closing/key')).toBeUndefined();
    expect(kv.status().state).toBe('closed');
  });
});
