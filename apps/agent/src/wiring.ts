// Which library implements which seam, for a given configuration. Each domain adapter lives in its own
// folder (kvstore/, policy/, datapath/) and returns the seams it fills; what none fills stays a placeholder.
// The kvstore's cluster state (identities, ipcache, nodes) feeds the policy engine and the datapath.
import type { AgentConfig } from './config.js';
import type { AgentSeams } from './daemon.js';
import type { ClusterLookups } from './seams.js';
import { PeerRegistry, type PeerSource } from '@cilium-ts/hubble';
import { kvstoreSeams, type ClusterState } from './kvstore/index.js';
import { policySeams, type PolicyPart } from './policy/index.js';
import { datapathSeams, type ClusterView } from './datapath/index.js';

export interface WiredSeams {
  seams: AgentSeams;
  /** The cluster as the kvstore shows it (undefined without kvstore-endpoints). */
  cluster?: ClusterState;
  /** What the datapath adapter is given: other nodes, the cluster's ipcache and the policy's CIDR prefixes. */
  view: ClusterView;
  /** Releases what the adapters opened (etcd clients, BPF objects), after the agent has stopped. */
  close(): Promise<void>;
}

export interface WiringOptions {
  /** false: leave the datapath to its placeholder (tests of the control plane in this machine's namespace). */
  datapath?: boolean;
}

export async function wireSeams(config: AgentConfig, options: WiringOptions = {}): Promise<WiredSeams> {
  // The identity API lists the policy engine's CIDR identities, and the engine follows the kvstore's identities.
  const late: { policy?: PolicyPart } = {};
  const kvstore = await kvstoreSeams(config, { localIdentities: () => late.policy?.localIdentities() ?? [] });
  const policy = await policySeams(config, kvstore.cluster ? { identities: kvstore.cluster.identities } : {});
  late.policy = policy;
  const view = datapathView(kvstore.cluster, policy.cidrIdentities);
  const parts = [kvstore, policy, ...(options.datapath === false ? [] : [await datapathSeams(config, view)])];
  return {
    seams: {
      ...(Object.assign({}, ...parts.map((p) => p.seams)) as AgentSeams),
      ...(kvstore.cluster ? { clusterLookups: clusterLookups(kvstore.cluster), hubblePeers: hubblePeers(kvstore.cluster) } : {}),
    },
    ...(kvstore.cluster ? { cluster: kvstore.cluster } : {}),
    view,
    async close() {
      for (const p of parts.reverse()) await p.close();
    },
  };
}

/**
 * What the datapath reads: the other nodes (kvstore), every node's endpoint IPs (kvstore) and the CIDR
 * prefixes the policy names with their node-local identities (no host IP: they are not behind a node).
 */
export function datapathView(cluster: ClusterState | undefined, cidr: PolicyPart['cidrIdentities']): ClusterView {
  return {
    nodes: () =>
      (cluster?.nodes.list() ?? [])
        .filter((n) => !n.local && n.nodeIP)
        .map((n) => ({ name: n.name, ip: n.nodeIP!, ...(n.podCIDR ? { podCidr: n.podCIDR } : {}) })),
    onNodesChange: (listener) => cluster?.nodes.onChange(() => listener()) ?? (() => undefined),
    ipcache: () => [
      ...(cluster?.ipcache.list() ?? []).map((e) => ({ prefix: e.prefix, identity: e.identity, hostIP: e.hostIP })),
      ...cidr.list().map((c) => ({ prefix: c.prefix, identity: c.identity })),
    ],
    onIpcacheChange: (listener) => {
      const stop = [cluster?.ipcache.onChange(() => listener()), cidr.onChange(listener)];
      return () => stop.forEach((s) => s?.());
    },
  };
}

/** Synchronous names for flows: identities and the ipcache indexed by IP, kept current with the cluster. */
export function clusterLookups(cluster: ClusterState): ClusterLookups {
  // Flows look these up per event: index once, drop the index on change.
  let byIp: Map<string, { identity: number; namespace?: string; podName?: string }> | undefined;
  let byId: Map<number, readonly string[]> | undefined;
  cluster.ipcache.onChange(() => (byIp = undefined));
  cluster.identities.onChange(() => (byId = undefined));
  return {
    identityLabels(id) {
      byId ??= new Map(cluster.identities.list().map((i) => [i.id, i.labels]));
      return byId.get(id);
    },
    ipcache(ip) {
      byIp ??= new Map(
        cluster.ipcache.list().map((e) => [e.ip, { identity: e.identity, ...(e.namespace ? { namespace: e.namespace } : {}), ...(e.podName ? { podName: e.podName } : {}) }]),
      );
      return byIp.get(ip);
    },
  };
}

/** Every node that announced a Hubble address, as the Peer service lists them for the relay. */
export function hubblePeers(cluster: ClusterState): PeerSource {
  const registry = new PeerRegistry();
  const sync = () => {
    const nodes = cluster.nodes.list().filter((n) => n.hubblePeerAddress);
    for (const n of nodes) registry.set({ name: n.name, address: n.hubblePeerAddress! });
    for (const p of registry.list()) if (!nodes.some((n) => n.name === p.name)) registry.delete(p.name);
  };
  cluster.nodes.onChange(sync);
  sync();
  return registry;
}
