import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { eventually } from '../test/cluster.js';
import { Kvstore } from './kvstore.js';
import { NodeRegistry } from './node-registry.js';

describe('NodeRegistry', () => {
  let etcd: EtcdServer;
  let kvA: Kvstore;
  let kvB: Kvstore;
  let registryA: NodeRegistry;
  let registryB: NodeRegistry;

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    kvA = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'node-a' });
    kvB = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'node-b' });
    registryA = new NodeRegistry(kvA);
    registryB = new NodeRegistry(kvB);
    await Promise.all([registryA.synced, registryB.synced]);
  });
  afterAll(async () => {
    await registryA?.close();
    await registryB?.close();
    await kvA?.close();
    await kvB?.close();
    await etcd?.destroy();
  });

  it("stores a node in upstream's Node JSON at cilium/state/nodes/v1/default/<node>", async () => {
    await registryA.register({ name: 'node-a', addresses: [{ type: 'InternalIP', ip: '192.168.50.1' }], ipv4PodCIDR: '10.0.1.0/24' });
    const stored = JSON.parse((await kvA.get('cilium/state/nodes/v1/default/node-a'))!.value);
    expect(stored).toMatchObject({
      Name: 'node-a',
      Cluster: 'default',
      IPAddresses: [{ Type: 'InternalIP', IP: '192.168.50.1' }],
      IPv4AllocCIDR: { IP: '10.0.1.0', Mask: '////AA==' },
      IPv6AllocCIDR: null,
    });
  });

  it('shows each node the others, and drops a node whose agent went away', async () => {
    await registryB.register({ name: 'node-b', addresses: [{ type: 'InternalIP', ip: '192.168.50.2' }], ipv4PodCIDR: '10.0.2.0/24' });
    const seen = await eventually(() => registryA.get('node-b'));
    expect(seen).toMatchObject({ name: 'node-b', cluster: 'default', ipv4PodCIDR: '10.0.2.0/24' });
    expect((await eventually(() => registryB.get('node-a')))?.ipv4PodCIDR).toBe('10.0.1.0/24');
    // Closing node-b's kvstore revokes its lease: its registration goes with it.
    await registryB.close();
    await kvB.close();
    await eventually(() => !registryA.nodes().has('node-b'));
    expect([...registryA.nodes().keys()]).toEqual(['node-a']);
  });
});
