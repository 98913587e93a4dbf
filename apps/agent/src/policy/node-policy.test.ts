// The node's policy engine as the agent drives it: endpoints computed from their security labels, identities
// arriving from the cluster, and the endpoints whose entries those identities change reported for regeneration.
import { describe, expect, it } from 'vitest';
import type { AllocatedIdentity, EndpointView, PolicyMapEntry } from '../seams.js';
import { EnginePolicyRepository } from './engine-policy-repository.js';
import { EnginePolicyResolver } from './engine-policy-resolver.js';
import { NodePolicy, type IdentitySource } from './node-policy.js';

/** Identities as the kvstore would announce them, pushed by the test. */
class IdentityFeed implements IdentitySource {
  private readonly listeners = new Set<(c: { kind: 'upsert' | 'delete'; value: AllocatedIdentity }) => void>();
  private readonly known = new Map<number, AllocatedIdentity>();
  private markSynced!: () => void;
  readonly synced = new Promise<void>((resolve) => (this.markSynced = resolve));

  list(): AllocatedIdentity[] {
    return [...this.known.values()];
  }
  onChange(listener: (c: { kind: 'upsert' | 'delete'; value: AllocatedIdentity }) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  upsert(id: number, labels: string[]): void {
    this.known.set(id, { id, labels });
    for (const l of this.listeners) l({ kind: 'upsert', value: { id, labels } });
  }
  delete(id: number): void {
    const value = this.known.get(id)!;
    this.known.delete(id);
    for (const l of this.listeners) l({ kind: 'delete', value });
  }
  sync(): void {
    this.markSynced();
  }
}

const NS = 'k8s:io.kubernetes.pod.namespace=default';
const server: EndpointView = { id: 1, labels: [NS, 'k8s:app=server'] };
const bystander: EndpointView = { id: 2, labels: [NS, 'k8s:app=bystander'] };

const ALLOW_CLIENT = {
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: 'allow-client', namespace: 'default' },
  spec: {
    endpointSelector: { matchLabels: { app: 'server' } },
    ingress: [{ fromEndpoints: [{ matchLabels: { app: 'client' } }], toPorts: [{ ports: [{ port: '8080', endPort: 8083, protocol: 'TCP' }] }] }],
  },
};

async function setup() {
  const feed = new IdentityFeed();
  const node = new NodePolicy('default', feed);
  const repo = new EnginePolicyRepository(node, () => 'default');
  const resolver = new EnginePolicyResolver(node);
  feed.sync();
  await repo.import([ALLOW_CLIENT]);
  return { feed, node, repo, resolver };
}

const peerEntries = (entries: PolicyMapEntry[], identity: number) => entries.filter((e) => e.identity === identity);

describe('NodePolicy with the cluster identities', () => {
  it('turns a port range into prefix entries for each selected identity', async () => {
    const { feed, resolver } = await setup();
    feed.upsert(1000, [NS, 'k8s:app=client']);
    const result = await resolver.computeFor(server, { enforcement: 'default' });
    expect(result).toMatchObject({ ingressEnforced: true, egressEnforced: false });
    // 8080-8083 is one /14 block of ports.
    expect(peerEntries(result.entries, 1000)).toEqual([
      expect.objectContaining({ direction: 'ingress', protocol: 6, port: 8080, portPrefixLength: 14, verdict: 'allow' }),
    ]);
  });

  it('reports only the endpoints whose entries a new or removed identity changes', async () => {
    const { feed, resolver } = await setup();
    await resolver.computeFor(server, { enforcement: 'default' });
    await resolver.computeFor(bystander, { enforcement: 'default' });
    const reported: number[][] = [];
    resolver.onInvalidate!((ids) => reported.push([...ids]));

    feed.upsert(1001, [NS, 'k8s:app=client', 'k8s:version=v2']);
    await Promise.resolve();
    expect(reported).toEqual([[server.id]]);
    expect(peerEntries((await resolver.computeFor(server, { enforcement: 'default' })).entries, 1001)).toHaveLength(1);

    feed.upsert(1002, [NS, 'k8s:app=unrelated']);
    await Promise.resolve();
    expect(reported).toHaveLength(1);

    feed.delete(1001);
    await Promise.resolve();
    expect(reported).toEqual([[server.id], [server.id]]);
    expect(peerEntries((await resolver.computeFor(server, { enforcement: 'default' })).entries, 1001)).toEqual([]);
  });

  it('does not compute before the identities known at start-up have arrived', async () => {
    const feed = new IdentityFeed();
    const node = new NodePolicy('default', feed);
    await new EnginePolicyRepository(node, () => 'default').import([ALLOW_CLIENT]);
    const computing = new EnginePolicyResolver(node).computeFor(server, { enforcement: 'default' });
    feed.upsert(1000, [NS, 'k8s:app=client']);
    feed.sync();
    expect(peerEntries((await computing).entries, 1000)).toHaveLength(1);
  });

  it('follows the enforcement mode: always denies by default, never allows everything', async () => {
    const { resolver } = await setup();
    const always = await resolver.computeFor(bystander, { enforcement: 'always' });
    expect(always).toMatchObject({ ingressEnforced: true, egressEnforced: true });
    expect(always.entries.filter((e) => e.identity === 0 && e.verdict === 'allow')).toEqual([]);
    const never = await resolver.computeFor(server, { enforcement: 'never' });
    expect(never).toMatchObject({ ingressEnforced: false, egressEnforced: false });
    expect(never.entries).toContainEqual(expect.objectContaining({ direction: 'ingress', identity: 0, protocol: 0, port: 0, verdict: 'allow' }));
  });

  it('enforces both directions for an endpoint without labels (the init identity), as upstream does', async () => {
    const { resolver } = await setup();
    const result = await resolver.computeFor({ id: 3, labels: ['k8s:pod-template-hash=abc'] }, { enforcement: 'default' });
    expect(result).toMatchObject({ ingressEnforced: true, egressEnforced: true });
    // Only the host may reach it (allow-localhost); no workload rule selects reserved:init.
    expect(result.entries.filter((e) => e.verdict === 'allow').map((e) => [e.direction, e.identity])).toEqual([['ingress', 1]]);
  });
});
