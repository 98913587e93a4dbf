import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { eventually } from '../test/cluster.js';
import { TcpProxy } from '../test/tcp-proxy.js';
import { Kvstore } from './kvstore.js';
import { watchPrefix, type KvEvent } from './prefix-watch.js';

describe('watchPrefix', () => {
  let etcd: EtcdServer;
  let writer: Kvstore;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    writer = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'writer' });
  });
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  afterAll(async () => {
    await writer?.close();
    await etcd?.destroy();
  });

  async function watcherBehindProxy(prefix: string) {
    const proxy = await TcpProxy.start(etcd.clientPort);
    const kv = new Kvstore({ endpoints: proxy.endpoint, nodeName: 'watcher', retryMaxMs: 500 });
    const events: KvEvent[] = [];
    const watch = watchPrefix(kv, prefix, (e) => events.push(e));
    cleanups.push(async () => {
      await watch.close();
      await kv.close();
      await proxy.close();
    });
    await watch.synced;
    return { proxy, watch, events };
  }

  it('lists what exists, then delivers changes in order', async () => {
    await writer.put('w1/a', '1');
    const { events, watch } = await watcherBehindProxy('w1/');
    expect(events.map((e) => [e.kind, e.key, e.value])).toEqual([['upsert', 'w1/a', '1']]);
    await writer.put('w1/b', '2');
    await writer.delete('w1/a');
    await eventually(() => events.length === 3);
    expect(events.slice(1).map((e) => [e.kind, e.key, e.value])).toEqual([
      ['upsert', 'w1/b', '2'],
      ['delete', 'w1/a', '1'],
    ]);
    expect(Object.fromEntries(watch.entries())).toEqual({ 'w1/b': '2' });
  });

  it('resumes after a disconnect from the last delivered revision: nothing missed, nothing twice', async () => {
    const { proxy, events } = await watcherBehindProxy('w2/');
    await writer.put('w2/before', 'x');
    await eventually(() => events.length === 1);
    proxy.cut();
    for (let i = 0; i < 20; i++) await writer.put(`w2/k${i}`, String(i));
    await writer.delete('w2/before');
    proxy.restore();
    await eventually(() => events.length >= 22);
    await new Promise((r) => setTimeout(r, 300)); // room for any duplicate to show up
    expect(events).toHaveLength(22);
    expect(events.slice(1, 21).map((e) => e.key)).toEqual(Array.from({ length: 20 }, (_, i) => `w2/k${i}`));
    expect(events[21]).toMatchObject({ kind: 'delete', key: 'w2/before' });
  });

  it('relists when the revision to resume from was compacted, emitting only the difference', async () => {
    await writer.put('w3/keep', '1');
    await writer.put('w3/change', 'old');
    await writer.put('w3/gone', 'x');
    const { proxy, events, watch } = await watcherBehindProxy('w3/');
    expect(events).toHaveLength(3);
    proxy.cut();
    await writer.put('w3/change', 'tmp');
    await writer.put('w3/change', 'new');
    await writer.delete('w3/gone');
    await writer.put('w3/added', 'y');
    const { revision } = await writer.list('w3/');
    await writer.client.kv.compact({ revision, physical: true });
    proxy.restore();
    await eventually(() => events.length >= 6, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(watch.relistCount).toBeGreaterThanOrEqual(2);
    expect(events.slice(3).map((e) => [e.kind, e.key, e.value]).sort()).toEqual([
      ['delete', 'w3/gone', 'x'],
      ['upsert', 'w3/added', 'y'],
      ['upsert', 'w3/change', 'new'],
    ]);
    expect(Object.fromEntries(watch.entries())).toEqual({ 'w3/keep': '1', 'w3/change': 'new', 'w3/added': 'y' });
  });
});
