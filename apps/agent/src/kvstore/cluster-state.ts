// What this node learns about the rest of the cluster from the kvstore: every node's endpoint IPs with their
// identities (the cluster-wide ipcache), the node registrations and the identities. The datapath fills its
// ipcache map and its routes to other nodes' pod CIDRs from here; the policy engine its selector cache.
import type { IPCacheSync, IPIdentityPair, IdentityCache, NodeInfo, NodeRegistry, Identity } from '@cilium-ts/identity';
import { parseLabel, LabelSource } from '@cilium-ts/labels';
import type { AllocatedIdentity } from '../seams.js';
import { formatAgentLabel } from '../policy/security-labels.js';

export interface ClusterChange<T> {
  kind: 'upsert' | 'delete';
  value: T;
}

export type ClusterListener<T> = (change: ClusterChange<T>) => void;

/** A source of state that changes: the current items and a subscription to what changes after. */
export interface ClusterSource<T> {
  list(): T[];
  /** Called for every change after subscribing; returns the unsubscribe function. */
  onChange(listener: ClusterListener<T>): () => void;
  /** Resolves once the kvstore's state at start-up has been read. */
  readonly synced: Promise<void>;
}

/** One IP of some node's endpoint (upstream IPIdentityPair). */
export interface ClusterIpcacheEntry {
  ip: string;
  /** `10.0.1.5/32` or `fd00::5/128`. */
  prefix: string;
  identity: number;
  /** The underlay address of the node hosting the IP (tunnel endpoint in VXLAN mode). */
  hostIP: string;
  /** The node that published the entry, when it says so. */
  node?: string;
  namespace?: string;
  podName?: string;
}

/** A registered node (upstream pkg/node/types.Node, the parts the datapath needs). */
export interface ClusterNode {
  name: string;
  cluster: string;
  /** The node's underlay (InternalIP) address. */
  nodeIP?: string;
  podCIDR?: string;
  podCIDRv6?: string;
  /** Where the relay reaches the node's Hubble server, as the node announced it. */
  hubblePeerAddress?: string;
  /** True for the node this agent runs on. */
  local: boolean;
}

/** Node label carrying the node's Hubble address (upstream derives it from the node IP and a fixed port). */
export const HUBBLE_PEER_ADDRESS_LABEL = 'hubble.cilium-ts.io/peer-address';

export interface ClusterState {
  readonly nodeName: string;
  /** Every node's endpoint IPs, this node's included (its own entries appear as soon as they are published). */
  readonly ipcache: ClusterSource<ClusterIpcacheEntry>;
  /** Every registered node, this one included. */
  readonly nodes: ClusterSource<ClusterNode>;
  /** Every identity this node knows: cluster-wide ones from the kvstore and node-local ones (no reserved). */
  readonly identities: ClusterSource<AllocatedIdentity>;
}

class Listeners<T> {
  private readonly set = new Set<ClusterListener<T>>();
  add(listener: ClusterListener<T>): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }
  emit(change: ClusterChange<T>): void {
    for (const l of this.set) {
      try {
        l(change);
      } catch (err) {
        // One subscriber's failure must not starve the others; surface it where it cannot be swallowed.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

/** `cilium-global:<cluster>:<node>` -> node. */
function nodeOf(pair: IPIdentityPair): string | undefined {
  const parts = pair.Metadata.split(':');
  return parts.length >= 3 && parts[0] === 'cilium-global' ? parts.slice(2).join(':') : undefined;
}

export function ipcacheEntryOf(pair: IPIdentityPair): ClusterIpcacheEntry {
  const node = nodeOf(pair);
  return {
    ip: pair.IP,
    prefix: pair.IP.includes(':') ? `${pair.IP}/128` : `${pair.IP}/32`,
    identity: pair.ID,
    hostIP: pair.HostIP,
    ...(node ? { node } : {}),
    ...(pair.K8sNamespace ? { namespace: pair.K8sNamespace } : {}),
    ...(pair.K8sPodName ? { podName: pair.K8sPodName } : {}),
  };
}

function sameEntry(a: ClusterIpcacheEntry, b: ClusterIpcacheEntry): boolean {
  return a.identity === b.identity && a.hostIP === b.hostIP && a.node === b.node && a.namespace === b.namespace && a.podName === b.podName;
}

/**
 * The cluster-wide ipcache: the kvstore's mirror of every node's entries, with this node's own entries taken
 * from what it publishes, so they are visible before etcd echoes them (and while etcd is away).
 */
export class ClusterIpcache implements ClusterSource<ClusterIpcacheEntry> {
  private readonly view = new Map<string, ClusterIpcacheEntry>();
  private readonly own = new Map<string, ClusterIpcacheEntry>();
  private readonly listeners = new Listeners<ClusterIpcacheEntry>();
  private readonly unsubscribe: () => void;
  readonly synced: Promise<void>;

  constructor(private readonly sync: IPCacheSync) {
    this.unsubscribe = sync.onChange((event) => {
      const entry = ipcacheEntryOf(event.value);
      // This node's published state is authoritative for its own IPs; etcd's echo may lag behind it.
      if (this.own.has(entry.ip)) return;
      if (event.kind === 'upsert') this.set(entry);
      else this.remove(entry.ip);
    });
    for (const pair of sync.entries().values()) this.set(ipcacheEntryOf(pair));
    this.synced = sync.synced;
  }

  publishLocal(entry: ClusterIpcacheEntry): void {
    this.own.set(entry.ip, entry);
    this.set(entry);
  }

  withdrawLocal(ip: string): void {
    this.own.delete(ip);
    this.remove(ip);
  }

  list(): ClusterIpcacheEntry[] {
    return [...this.view.values()];
  }

  onChange(listener: ClusterListener<ClusterIpcacheEntry>): () => void {
    return this.listeners.add(listener);
  }

  close(): void {
    this.unsubscribe();
  }

  private set(entry: ClusterIpcacheEntry): void {
    const prev = this.view.get(entry.ip);
    if (prev && sameEntry(prev, entry)) return;
    this.view.set(entry.ip, entry);
    this.listeners.emit({ kind: 'upsert', value: entry });
  }

  private remove(ip: string): void {
    const prev = this.view.get(ip);
    if (!prev) return;
    this.view.delete(ip);
    this.listeners.emit({ kind: 'delete', value: prev });
  }
}

export function clusterNodeOf(info: NodeInfo, localName: string): ClusterNode {
  const nodeIP = info.addresses.find((a) => a.type === 'InternalIP')?.ip ?? info.addresses[0]?.ip;
  return {
    name: info.name,
    cluster: info.cluster,
    ...(nodeIP ? { nodeIP } : {}),
    ...(info.ipv4PodCIDR ? { podCIDR: info.ipv4PodCIDR } : {}),
    ...(info.ipv6PodCIDR ? { podCIDRv6: info.ipv6PodCIDR } : {}),
    ...(info.labels?.[HUBBLE_PEER_ADDRESS_LABEL] ? { hubblePeerAddress: info.labels[HUBBLE_PEER_ADDRESS_LABEL] } : {}),
    local: info.name === localName,
  };
}

export function clusterNodes(registry: NodeRegistry, localName: string): ClusterSource<ClusterNode> {
  return {
    list: () => [...registry.nodes().values()].map((n) => clusterNodeOf(n, localName)),
    onChange: (listener) => registry.onChange((e) => listener({ kind: e.kind, value: clusterNodeOf(e.value, localName) })),
    synced: registry.synced,
  };
}

/** The identity lib's canonical labels (`k8s:a=b`, `reserved:host=`) in the agent's form. */
export function allocatedIdentityOf(identity: Pick<Identity, 'id' | 'labels'>): AllocatedIdentity {
  return { id: identity.id, labels: identity.labels.map((l) => formatAgentLabel(parseLabel(l, LabelSource.unspec))) };
}

/**
 * The identity cache as a cluster source. Identities this node allocates are announced at once, so that the
 * policy engine knows an endpoint's own identity before the watch delivers it.
 */
export class ClusterIdentities implements ClusterSource<AllocatedIdentity> {
  private readonly listeners = new Listeners<AllocatedIdentity>();
  private readonly announced = new Map<number, AllocatedIdentity>();
  private readonly unsubscribe: () => void;
  readonly synced: Promise<void>;

  constructor(private readonly cache: IdentityCache) {
    this.synced = cache.synced;
    this.unsubscribe = cache.onChange((e) => {
      this.announced.delete(e.id);
      this.listeners.emit({ kind: e.kind, value: allocatedIdentityOf(e) });
    });
  }

  announce(identity: AllocatedIdentity): void {
    if (this.cache.lookupById(identity.id) || this.announced.has(identity.id)) return;
    this.announced.set(identity.id, identity);
    this.listeners.emit({ kind: 'upsert', value: identity });
  }

  get(id: number): AllocatedIdentity | undefined {
    const known = this.cache.lookupById(id);
    return known ? allocatedIdentityOf(known) : this.announced.get(id);
  }

  list(): AllocatedIdentity[] {
    const known = this.cache.identities().map(allocatedIdentityOf);
    const ids = new Set(known.map((i) => i.id));
    return [...known, ...[...this.announced.values()].filter((i) => !ids.has(i.id))];
  }

  onChange(listener: ClusterListener<AllocatedIdentity>): () => void {
    return this.listeners.add(listener);
  }

  close(): void {
    this.unsubscribe();
  }
}
