// Node registrations at `cilium/state/nodes/v1/<cluster>/<node>` in upstream's Node JSON, under
// the node's lease: a node that dies drops out of everyone's view when its lease expires.
import type { Kvstore } from './kvstore.js';
import { cidrFromJson, cidrToJson } from './cidr.js';
import { SharedStore, type SharedStoreEvent } from './shared-store.js';

export const NODES_PREFIX = 'cilium/state/nodes/v1/';

/** Upstream's node address types. */
export type NodeAddressType = 'InternalIP' | 'ExternalIP' | 'Hostname' | 'CiliumInternalIP';

/** Upstream's pkg/node/types.Node as JSON. */
export interface NodeJson {
  Name: string;
  Cluster: string;
  IPAddresses: Array<{ Type: NodeAddressType; IP: string }>;
  IPv4AllocCIDR: { IP: string; Mask: string } | null;
  IPv6AllocCIDR: { IP: string; Mask: string } | null;
  IPv4HealthIP: string;
  IPv6HealthIP: string;
  ClusterID: number;
  Source: string;
  EncryptionKey: number;
  Labels: Record<string, string>;
}

export interface NodeRegistration {
  name: string;
  addresses: Array<{ type: NodeAddressType; ip: string }>;
  ipv4PodCIDR?: string;
  ipv6PodCIDR?: string;
  ipv4HealthIP?: string;
  labels?: Record<string, string>;
}

export interface NodeInfo extends NodeRegistration {
  cluster: string;
}

export type NodeEvent = SharedStoreEvent<NodeInfo>;

function toJson(node: NodeRegistration, cluster: string): NodeJson {
  return {
    Name: node.name,
    Cluster: cluster,
    IPAddresses: node.addresses.map((a) => ({ Type: a.type, IP: a.ip })),
    IPv4AllocCIDR: node.ipv4PodCIDR ? cidrToJson(node.ipv4PodCIDR) : null,
    IPv6AllocCIDR: node.ipv6PodCIDR ? cidrToJson(node.ipv6PodCIDR) : null,
    IPv4HealthIP: node.ipv4HealthIP ?? '',
    IPv6HealthIP: '',
    ClusterID: 0,
    Source: 'local',
    EncryptionKey: 0,
    Labels: node.labels ?? {},
  };
}

function fromJson(json: NodeJson): NodeInfo {
  if (typeof json.Name !== 'string' || !Array.isArray(json.IPAddresses)) throw new Error('not a Node');
  const ipv4PodCIDR = cidrFromJson(json.IPv4AllocCIDR);
  const ipv6PodCIDR = cidrFromJson(json.IPv6AllocCIDR);
  return {
    name: json.Name,
    cluster: json.Cluster,
    addresses: json.IPAddresses.map((a) => ({ type: a.Type, ip: a.IP })),
    ...(ipv4PodCIDR ? { ipv4PodCIDR } : {}),
    ...(ipv6PodCIDR ? { ipv6PodCIDR } : {}),
    ...(json.IPv4HealthIP ? { ipv4HealthIP: json.IPv4HealthIP } : {}),
    labels: json.Labels ?? {},
  };
}

export class NodeRegistry {
  private readonly store: SharedStore<NodeInfo>;
  readonly synced: Promise<void>;

  constructor(
    kv: Kvstore,
    readonly cluster = 'default',
  ) {
    const c = cluster;
    this.store = new SharedStore(kv, `${NODES_PREFIX}${cluster}/`, {
      encode: (node: NodeInfo) => JSON.stringify(toJson(node, c)),
      decode: (text: string) => fromJson(JSON.parse(text) as NodeJson),
    });
    this.synced = this.store.synced;
  }

  /** Registers (or updates) this node; the key lives under the node's lease. */
  async register(node: NodeRegistration): Promise<void> {
    if (node.name.includes('/')) throw new Error(`node registry: node name "${node.name}" must not contain '/'`);
    await this.store.upsertLocal(node.name, { ...node, cluster: this.cluster });
  }

  async deregister(name: string): Promise<void> {
    await this.store.deleteLocal(name);
  }

  get(name: string): NodeInfo | undefined {
    return this.store.get(name);
  }

  nodes(): ReadonlyMap<string, NodeInfo> {
    return this.store.entries();
  }

  onChange(listener: (event: NodeEvent) => void): () => void {
    return this.store.onChange(listener);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
