import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { eventually, startNode, type TestNode } from '../test/cluster.js';
import type { IdentityChangeEvent } from './identity.js';
import { idKey, labelsKey, valueKey } from './identity-keys.js';

describe('IdentityAllocator', () => {
  let etcd: EtcdServer;
  let a: TestNode;
  let b: TestNode;

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    a = await startNode(etcd.endpoint, 'node-a');
    b = await startNode(etcd.endpoint, 'node-b');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await etcd?.destroy();
  });

  it('allocates a cluster identity from 256 up and stores it in upstream key layout', async () => {
    const { identity, isNew } = await a.allocator.allocate(['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default']);
    expect(isNew).toBe(true);
    expect(identity.scope).toBe('global');
    expect(identity.id).toBeGreaterThanOrEqual(256);
    expect(identity.id).toBeLessThanOrEqual(65535);
    const labels = 'k8s:app=web;k8s:io.kubernetes.pod.namespace=default;';
    expect(identity.labelString).toBe(labels);
    expect((await a.kv.get(idKey(identity.id)))?.value).toBe(labels);
    const value = await a.kv.get(valueKey(labels, 'node-a'));
    expect(value?.value).toBe(String(identity.id));
    expect(value?.lease).toBe(await a.kv.leaseId());
    expect((await a.kv.get(labelsKey(labels)))?.value).toBe(String(identity.id));
  });

  it('gives the same labels the same identity on every node, whatever the label order', async () => {
    const first = await a.allocator.allocate(['k8s:app=api', 'k8s:tier=backend']);
    const second = await b.allocator.allocate(['k8s:tier=backend', 'k8s:app=api']);
    expect(second.identity.id).toBe(first.identity.id);
    expect(second.isNew).toBe(false);
    expect(await a.kv.get(valueKey(first.identity.labelString, 'node-b'))).toBeDefined();
    expect(b.allocator.stats.referenced).toBeGreaterThan(0);
    expect(a.allocator.stats.created).toBeGreaterThan(0);
  });

  it('never gives two label sets the same identity', async () => {
    const sets = Array.from({ length: 50 }, (_, i) => [`k8s:app=distinct-${i}`]);
    const results = await Promise.all(sets.map((s, i) => (i % 2 ? a : b).allocator.allocate(s)));
    expect(new Set(results.map((r) => r.identity.id)).size).toBe(50);
  });

  it('answers lookups from the cache, including identities other nodes allocated', async () => {
    const { identity } = await b.allocator.allocate(['k8s:app=lookup']);
    const seen = await eventually(() => a.cache.lookupById(identity.id));
    expect(seen.labelString).toBe('k8s:app=lookup;');
    expect(a.cache.lookupByLabels(['k8s:app=lookup'])?.id).toBe(identity.id);
  });

  it('tells subscribers about identities allocated elsewhere', async () => {
    const events: IdentityChangeEvent[] = [];
    const unsubscribe = a.cache.onChange((e) => events.push(e));
    const { identity } = await b.allocator.allocate(['k8s:app=subscribed']);
    const event = await eventually(() => events.find((e) => e.id === identity.id));
    unsubscribe();
    expect(event).toEqual({ kind: 'upsert', id: identity.id, labels: ['k8s:app=subscribed'] });
  });

  it('keeps this node\'s reference until the last local release', async () => {
    const labels = ['k8s:app=refcounted'];
    const { identity } = await a.allocator.allocate(labels);
    await a.allocator.allocate(labels);
    expect(await a.allocator.release(labels)).toBe(false);
    expect(await a.kv.get(valueKey(identity.labelString, 'node-a'))).toBeDefined();
    expect(await a.allocator.release(labels)).toBe(true);
    expect(await a.kv.get(valueKey(identity.labelString, 'node-a'))).toBeUndefined();
    // The identity itself stays for the garbage collector.
    expect((await a.kv.get(idKey(identity.id)))?.value).toBe(identity.labelString);
    await expect(a.allocator.release(labels)).rejects.toThrow(/not allocated on node node-a/);
  });

  it('re-uses an unreferenced identity rather than minting a second id for the same labels', async () => {
    const labels = ['k8s:app=comeback'];
    const first = await a.allocator.allocate(labels);
    await a.allocator.release(labels);
    const again = await b.allocator.allocate(labels);
    expect(again.identity.id).toBe(first.identity.id);
  });

  it('resolves reserved labels without etcd', async () => {
    const { identity } = await a.allocator.allocate(['reserved:host']);
    expect(identity).toMatchObject({ id: 1, scope: 'reserved' });
    expect(a.cache.lookupById(2)?.labels).toEqual(['reserved:world=']);
  });

  it('allocates CIDR and FQDN identities locally from 1<<24 + 1, never in etcd', async () => {
    const cidr = await a.allocator.allocate(['cidr:10.0.0.0/8', 'reserved:world']);
    const fqdn = await a.allocator.allocate(['fqdn:api.example.com']);
    expect(cidr.identity).toMatchObject({ id: 16777217, scope: 'local' });
    expect(fqdn.identity.id).toBe(16777218);
    expect((await a.allocator.allocate(['reserved:world', 'cidr:10.0.0.0/8'])).identity.id).toBe(16777217);
    expect(a.cache.lookupById(16777217)?.labelString).toBe('cidr:10.0.0.0/8=;reserved:world=;');
    expect((await a.kv.list('cilium/state/identities/v1/id/')).pairs.some((p) => p.value.includes('cidr:'))).toBe(false);
    expect(b.cache.lookupById(16777217)).toBeUndefined();
  });

  it('announces local identities to subscribers and frees them on the last release', async () => {
    const events: IdentityChangeEvent[] = [];
    const unsubscribe = a.cache.onChange((e) => events.push(e));
    const labels = ['cidr:192.0.2.0/24'];
    const { identity } = await a.allocator.allocate(labels);
    expect(await a.allocator.release(labels)).toBe(true);
    unsubscribe();
    expect(events).toEqual([
      { kind: 'upsert', id: identity.id, labels: ['cidr:192.0.2.0/24='] },
      { kind: 'delete', id: identity.id, labels: ['cidr:192.0.2.0/24='] },
    ]);
    expect(a.cache.lookupById(identity.id)).toBeUndefined();
  });

  it('keeps the reference when a release and a new allocation on the node overlap', async () => {
    const labels = ['k8s:app=flapping'];
    const { identity } = await a.allocator.allocate(labels);
    const [released, again] = await Promise.all([a.allocator.release(labels), a.allocator.allocate(labels)]);
    expect(released).toBe(true);
    expect(again.identity.id).toBe(identity.id);
    expect((await a.kv.get(valueKey(identity.labelString, 'node-a')))?.value).toBe(String(identity.id));
  });
});
