import type { NodeDatapath, RemoteNode } from './node-datapath.js';

/** An IP known cluster-wide (from the kvstore): which identity it has and which node hosts it. */
export interface ClusterIpcacheEntry {
  prefix: string;
  identity: number;
  hostIP?: string;
}

/** What the datapath needs to know about the rest of the cluster. */
export interface ClusterView {
  nodes(): RemoteNode[];
  onNodesChange(listener: () => void): () => void;
  ipcache(): ClusterIpcacheEntry[];
  onIpcacheChange(listener: () => void): () => void;
}

/**
 * Keeps the node's ipcache map and routes in line with the cluster: other nodes' pods (behind the tunnel
 * to their node in VXLAN mode) and other nodes' addresses. This node's own endpoints are written by the
 * endpoint datapath, so entries hosted here are left alone.
 */
export class ClusterSync {
  private written = new Map<string, string>();
  private readonly unsubscribe: Array<() => void> = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly node: NodeDatapath,
    private readonly cluster: ClusterView,
    private readonly onError: (err: Error) => void,
  ) {
    this.unsubscribe.push(cluster.onNodesChange(() => this.schedule(() => node.setRemoteNodes(cluster.nodes()))));
    this.unsubscribe.push(cluster.onIpcacheChange(() => this.schedule(async () => this.syncIpcache())));
    this.schedule(() => node.setRemoteNodes(cluster.nodes()));
    this.schedule(async () => this.syncIpcache());
  }

  /** Serialises updates: each runs after the previous one, and a failure is reported, not fatal. */
  private schedule(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: Error) => this.onError(err));
  }

  settled(): Promise<void> {
    return this.chain;
  }

  private syncIpcache(): void {
    const self = this.node.config.nodeIP;
    const tunnel = this.node.config.routingMode === 'vxlan';
    const next = new Map<string, string>();
    for (const e of this.cluster.ipcache()) {
      // This node's endpoints are the endpoint datapath's to write; CIDR prefixes have no host.
      if (e.hostIP && e.hostIP === self) continue;
      const value = { identity: e.identity, ...(tunnel && e.hostIP ? { tunnelEndpoint: e.hostIP } : {}) };
      const fingerprint = JSON.stringify(value);
      next.set(e.prefix, fingerprint);
      if (this.written.get(e.prefix) !== fingerprint) this.node.upsertIpcache(e.prefix, value);
    }
    for (const prefix of this.written.keys()) if (!next.has(prefix)) this.node.deleteIpcache(prefix);
    this.written = next;
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }
}
