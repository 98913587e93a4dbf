import type { AgentConfig } from '../config.js';
import type { AgentSeams } from '../daemon.js';
import { ClusterSync, type ClusterView } from './cluster-sync.js';
import { EndpointDatapath } from './endpoint-datapath.js';
import { DatapathEvents } from './events.js';
import { BpfMapInspector } from './map-inspector.js';
import { NodeDatapath } from './node-datapath.js';

export type { ClusterView, ClusterIpcacheEntry } from './cluster-sync.js';

/**
 * The real datapath: node-wide programs and maps, one bpf_lxc per endpoint, and the ipcache and routes
 * that follow the cluster when a kvstore tells us about it.
 */
export async function datapathSeams(config: AgentConfig, cluster?: ClusterView): Promise<{ seams: Partial<AgentSeams>; close(): Promise<void> }> {
  const node = await NodeDatapath.start(config);
  const endpoints = new EndpointDatapath(node);
  const sync = cluster ? new ClusterSync(node, cluster, (err) => console.error(`cilium-agent: datapath: cluster sync: ${err.message}`)) : undefined;
  const events = new DatapathEvents(node.map('cilium_events'));
  return {
    seams: { datapath: endpoints, datapathEvents: events, maps: () => new BpfMapInspector(node, endpoints) },
    async close() {
      await events.close();
      sync?.close();
      endpoints.close();
      node.close();
    },
  };
}
