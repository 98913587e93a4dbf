// The kvstore adapter: with `kvstore-endpoints` configured, one etcd client per agent (its lease owned by this
// node) behind the identity, ipcache, nodes and kvstore-status seams, and the cluster state the datapath and
// the policy engine follow. Without it nothing is filled: the placeholders run and say so in the health.
import { IdentityAllocator as LibIdentityAllocator, IdentityCache, IPCacheSync, Kvstore, NodeRegistry } from '@cilium-ts/identity';
import type { NodeElement, Status } from '@cilium-ts/agent-api';
import { ConfigError, type AgentConfig } from '../config.js';
import type { AgentSeams } from '../daemon.js';
import type { AllocatedIdentity } from '../seams.js';
import { HUBBLE_PEER_ADDRESS_LABEL } from './cluster-state.js';
import { ClusterIdentities, ClusterIpcache, clusterNodes, type ClusterNode, type ClusterState } from './cluster-state.js';
import { KvstoreIdentityAllocator } from './kvstore-identity-allocator.js';
import { KvstoreIpcachePublisher } from './kvstore-ipcache-publisher.js';

export type { ClusterState, ClusterSource, ClusterChange, ClusterListener, ClusterIpcacheEntry, ClusterNode } from './cluster-state.js';

/** Upstream's kvstore lease TTL (15 minutes). */
export const DEFAULT_LEASE_TTL_SECONDS = 15 * 60;

export interface KvstoreSeamsOptions {
  /** Node-local identities held elsewhere (the policy engine's CIDR identities), for GET /v1/identity. */
  localIdentities?: () => AllocatedIdentity[];
  leaseTtlSeconds?: number;
  /** How long this node's entries from a previous run wait for their endpoint before they are deleted. */
  strayGraceMs?: number;
}

export interface KvstorePart {
  seams: Partial<AgentSeams>;
  /** The cluster as the kvstore shows it; undefined without `kvstore-endpoints`. */
  cluster?: ClusterState;
  close(): Promise<void>;
}

function nodeElement(node: ClusterNode): NodeElement {
  return {
    name: `${node.cluster}/${node.name}`,
    'primary-address': {
      ipv4: { enabled: true, ...(node.nodeIP ? { ip: node.nodeIP } : {}), ...(node.podCIDR ? { 'alloc-range': node.podCIDR } : {}) },
      ipv6: node.podCIDRv6 ? { enabled: true, 'alloc-range': node.podCIDRv6 } : { enabled: false },
    },
  };
}

export async function kvstoreSeams(config: AgentConfig, options: KvstoreSeamsOptions = {}): Promise<KvstorePart> {
  if (config.kvstoreEndpoints.length === 0) return { seams: {}, close: async () => undefined };
  if (!config.nodeIP) {
    throw new ConfigError('node-ip', 'is required with kvstore-endpoints: other nodes reach this node\'s pods through it');
  }
  const nodeIP = config.nodeIP;
  const kv = new Kvstore({
    endpoints: config.kvstoreEndpoints,
    nodeName: config.nodeName,
    leaseTtlSeconds: options.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS,
  });
  const cache = new IdentityCache(kv);
  const allocator = new LibIdentityAllocator(kv, cache);
  const ipcacheSync = new IPCacheSync(kv, config.clusterName);
  const registry = new NodeRegistry(kv, config.clusterName);
  const identities = new ClusterIdentities(cache);
  const ipcache = new ClusterIpcache(ipcacheSync);
  const nodes = clusterNodes(registry, config.nodeName);

  // Registration retries while etcd is away; the agent starts without waiting for it.
  let registration = 'registering the node';
  void registry
    .register({
      name: config.nodeName,
      addresses: [{ type: 'InternalIP', ip: nodeIP }],
      ipv4PodCIDR: config.podCIDR.text,
      ...(config.podCIDRv6 ? { ipv6PodCIDR: config.podCIDRv6.text } : {}),
      labels: { [HUBBLE_PEER_ADDRESS_LABEL]: config.hubblePeerAddress },
    })
    .then(
      () => (registration = 'node registered'),
      (err: Error) => (registration = `node registration failed: ${err.message}`),
    );

  const kvstoreStatus = (): Status => {
    const s = kv.status();
    const where = config.kvstoreEndpoints.join(',');
    const detail = `${kv.statusText()}; ${where}; ${registration}; ${cache.size} identities, ${ipcache.list().length} ipcache entries, ${registry.nodes().size} nodes`;
    switch (s.state) {
      case 'connected':
        return { state: 'Ok', msg: detail };
      case 'connecting':
      case 'reconnecting':
        return { state: 'Warning', msg: detail };
      case 'closed':
        return { state: 'Failure', msg: detail };
    }
  };

  const cluster: ClusterState = { nodeName: config.nodeName, ipcache, nodes, identities };
  const publisher = new KvstoreIpcachePublisher(ipcacheSync, ipcache, config.nodeName, nodeIP, options.strayGraceMs);
  return {
    seams: {
      identity: new KvstoreIdentityAllocator({ allocator, cache, identities, ...(options.localIdentities ? { localIdentities: options.localIdentities } : {}) }),
      ipcache: publisher,
      nodes: () => nodes.list().filter((n) => !n.local).map(nodeElement),
      kvstoreStatus,
    },
    cluster,
    async close() {
      publisher.close();
      identities.close();
      ipcache.close();
      allocator.close();
      await Promise.all([cache.close(), ipcacheSync.close(), registry.close()]);
      // The lease is kept, not revoked: across an agent restart the other nodes keep this node's
      // endpoints and registration (they expire with the lease if the agent does not come back).
      await kv.close({ revokeLease: false });
    },
  };
}
