// Which library implements which seam, for a given configuration. Each domain adapter lives in its own
// folder (kvstore/, policy/, datapath/) and returns the seams it fills; what none fills stays a placeholder.
// The kvstore's cluster state (identities, ipcache, nodes) feeds the policy engine and the datapath.
import type { AgentConfig } from './config.js';
import type { AgentSeams } from './daemon.js';
import { kvstoreSeams, type ClusterState } from './kvstore/index.js';
import { policySeams, type PolicyPart } from './policy/index.js';
import { datapathSeams, type ClusterView } from './datapath/index.js';

export interface WiredSeams {
  seams: AgentSeams;
  /** The cluster as the kvstore shows it (undefined without kvstore-endpoints). */
  cluster?: ClusterState;
  /** Releases what the adapters opened (etcd clients, BPF objects), after the agent has stopped. */
  close(): Promise<void>;
}

export async function wireSeams(config: AgentConfig): Promise<WiredSeams> {
  // The identity API lists the policy engine's CIDR identities, and the engine follows the kvstore's identities.
  const late: { policy?: PolicyPart } = {};
  const kvstore = await kvstoreSeams(config, { localIdentities: () => late.policy?.localIdentities() ?? [] });
  const policy = await policySeams(config, kvstore.cluster ? { identities: kvstore.cluster.identities } : {});
  late.policy = policy;
  const parts = [kvstore, policy, await datapathSeams(config, kvstore.cluster ? datapathView(kvstore.cluster) : undefined)];
  return {
    seams: Object.assign({}, ...parts.map((p) => p.seams)) as AgentSeams,
    ...(kvstore.cluster ? { cluster: kvstore.cluster } : {}),
    async close() {
      for (const p of parts.reverse()) await p.close();
    },
  };
}

/** The kvstore's cluster state as the datapath reads it: the other nodes, and every node's endpoint IPs. */
export function datapathView(cluster: ClusterState): ClusterView {
  return {
    nodes: () =>
      cluster.nodes
        .list()
        .filter((n) => !n.local && n.nodeIP)
        .map((n) => ({ name: n.name, ip: n.nodeIP!, ...(n.podCIDR ? { podCidr: n.podCIDR } : {}) })),
    onNodesChange: (listener) => cluster.nodes.onChange(() => listener()),
    ipcache: () => cluster.ipcache.list().map((e) => ({ prefix: e.prefix, identity: e.identity, hostIP: e.hostIP })),
    onIpcacheChange: (listener) => cluster.ipcache.onChange(() => listener()),
  };
}
