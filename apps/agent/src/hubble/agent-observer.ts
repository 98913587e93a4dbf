import type { DatapathEvent as BpfEvent } from '@cilium-ts/bpf-programs';
import { FlowBuilder, LocalObserver, type DatapathEvent, type FlowLookups, type HubbleMetrics } from '@cilium-ts/hubble';
import type { Flow } from '@cilium-ts/proto';
import { formatLabel, reservedIdentityLabels } from '@cilium-ts/labels';
import type { AgentTables } from '../agent-tables.js';
import type { ClusterLookups, DatapathEventSource } from '../seams.js';

/** The datapath's event as Hubble's parser takes it; `undefined` for events Hubble does not turn into flows. */
export function toHubbleEvent(e: BpfEvent, timestamp: number): DatapathEvent | undefined {
  const common = {
    timestamp,
    sourceEndpointId: e.source,
    packet: e.data,
  };
  switch (e.kind) {
    case 'trace':
      return { ...common, type: 'trace', subType: e.observationPoint, sourceIdentity: e.srcIdentity, destinationIdentity: e.dstIdentity, ifindex: e.ifindex, traceReason: e.reason };
    case 'drop':
      return { ...common, type: 'drop', subType: e.reason, sourceIdentity: e.srcIdentity, destinationIdentity: e.dstIdentity, ifindex: e.ifindex };
    case 'policy-verdict':
      return {
        ...common,
        type: 'policy-verdict',
        subType: 0,
        sourceIdentity: e.srcIdentity,
        destinationIdentity: e.dstIdentity,
        ifindex: e.ifindex,
        policyVerdict: {
          verdict: e.verdict,
          direction: e.direction === 'egress' ? 'egress' : 'ingress',
          matchType: e.matchType,
          audited: false,
          remoteIdentity: e.remoteIdentity,
        },
      };
    default:
      return undefined;
  }
}

/** Names for the addresses and identities of flows, from the agent's tables and the cluster. */
export function agentFlowLookups(tables: AgentTables, cluster: ClusterLookups | undefined, clusterName: string): FlowLookups {
  return {
    lookupEndpointByIp(ip) {
      const ep = tables.endpoints.getBy('ip', ip)[0];
      if (!ep) return undefined;
      return { id: ep.id, identity: ep.identity ?? 0, namespace: ep.namespace ?? '', podName: ep.podName ?? '', labels: ep.labels, clusterName };
    },
    lookupIdentity(id) {
      const reserved = reservedIdentityLabels(id);
      if (reserved.length > 0) return { labels: reserved.map(formatLabel) };
      const local = tables.identities.get(String(id).padStart(10, '0'));
      if (local) return { labels: local.labels };
      const labels = cluster?.identityLabels(id);
      return labels ? { labels } : undefined;
    },
    lookupIpcache(ip) {
      return cluster?.ipcache(ip);
    },
  };
}

/**
 * The agent's Hubble pipeline: every datapath event becomes a flow in the observer's ring (for the
 * Hubble server) and goes to the live listeners (`cilium monitor`).
 */
export class AgentObserver {
  readonly observer: LocalObserver;
  private readonly listeners = new Set<(flow: Flow) => void>();
  private readonly unsubscribe: () => void;

  constructor(opts: { nodeName: string; version: string; lookups: FlowLookups; events: DatapathEventSource; capacity?: number; metrics?: HubbleMetrics }) {
    const builder = new FlowBuilder(opts.lookups, { nodeName: opts.nodeName, version: opts.version });
    this.observer = new LocalObserver({
      nodeName: opts.nodeName,
      version: opts.version,
      builder,
      ...(opts.capacity ? { capacity: opts.capacity } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
    this.unsubscribe = opts.events.subscribe((events) => {
      const now = Date.now();
      for (const e of events) {
        const he = toHubbleEvent(e, now);
        if (!he) continue;
        const flow = this.observer.observe(he);
        for (const l of this.listeners) l(flow);
      }
    });
  }

  /** Live flows, as they are observed. */
  onFlow(listener: (flow: Flow) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }
}
