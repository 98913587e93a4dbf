// Which library implements which seam, for a given configuration. Each domain adapter lives in its own
// folder (kvstore/, policy/, datapath/) and returns the seams it fills; what none fills stays a placeholder.
import type { AgentConfig } from './config.js';
import type { AgentSeams } from './daemon.js';
import { kvstoreSeams } from './kvstore/index.js';
import { policySeams } from './policy/index.js';
import { datapathSeams } from './datapath/index.js';

export interface WiredSeams {
  seams: AgentSeams;
  /** Releases what the adapters opened (etcd clients, BPF objects), after the agent has stopped. */
  close(): Promise<void>;
}

export async function wireSeams(config: AgentConfig): Promise<WiredSeams> {
  const parts = [await kvstoreSeams(config), await policySeams(config), await datapathSeams(config)];
  return {
    seams: Object.assign({}, ...parts.map((p) => p.seams)) as AgentSeams,
    async close() {
      for (const p of parts.reverse()) await p.close();
    },
  };
}
