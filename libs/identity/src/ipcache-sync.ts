// The IP-to-identity cache in etcd: each node publishes its endpoints' IPs under its lease at
// `cilium/state/ip/v1/<cluster>/<ip>` in upstream's IPIdentityPair JSON, and mirrors everyone's,
// so the datapath's ipcache can be filled cluster-wide.
import { isIP } from 'node:net';
import type { Kvstore } from './kvstore.js';
import { SharedStore, type SharedStoreEvent } from './shared-store.js';

export const IPCACHE_PREFIX = 'cilium/state/ip/v1/';

export interface NamedPort {
  Name: string;
  Port: number;
  Protocol: string;
}

/** Upstream's IPIdentityPair as stored in etcd (field names are part of the stable API). */
export interface IPIdentityPair {
  IP: string;
  /** base64 of the mask bytes for CIDR entries, null for a single IP. */
  Mask: string | null;
  HostIP: string;
  ID: number;
  /** Encryption key index. */
  Key: number;
  Metadata: string;
  K8sNamespace?: string;
  K8sPodName?: string;
  NamedPorts?: NamedPort[];
}

export interface EndpointIP {
  ip: string;
  identity: number;
  /** The node IP to tunnel to. */
  hostIP: string;
  encryptKey?: number;
  k8sNamespace?: string;
  k8sPodName?: string;
  namedPorts?: NamedPort[];
}

export type IPCacheEvent = SharedStoreEvent<IPIdentityPair>;

const codec = {
  encode: (pair: IPIdentityPair) => JSON.stringify(pair),
  decode: (text: string): IPIdentityPair => {
    const pair = JSON.parse(text) as IPIdentityPair;
    if (typeof pair.IP !== 'string' || typeof pair.ID !== 'number') throw new Error('not an IPIdentityPair');
    return pair;
  },
};

export class IPCacheSync {
  private readonly store: SharedStore<IPIdentityPair>;
  readonly synced: Promise<void>;

  constructor(
    private readonly kv: Kvstore,
    readonly cluster = 'default',
  ) {
    this.store = new SharedStore(kv, `${IPCACHE_PREFIX}${cluster}/`, codec);
    this.synced = this.store.synced;
  }

  /** Publishes one of this node's endpoint IPs. */
  async upsert(endpoint: EndpointIP): Promise<void> {
    if (!isIP(endpoint.ip)) throw new Error(`ipcache upsert: "${endpoint.ip}" is not an IP address`);
    if (!isIP(endpoint.hostIP)) throw new Error(`ipcache upsert ${endpoint.ip}: hostIP "${endpoint.hostIP}" is not an IP address`);
    const pair: IPIdentityPair = {
      IP: endpoint.ip,
      Mask: null,
      HostIP: endpoint.hostIP,
      ID: endpoint.identity,
      Key: endpoint.encryptKey ?? 0,
      Metadata: `cilium-global:${this.cluster}:${this.kv.nodeName}`,
      ...(endpoint.k8sNamespace ? { K8sNamespace: endpoint.k8sNamespace } : {}),
      ...(endpoint.k8sPodName ? { K8sPodName: endpoint.k8sPodName } : {}),
      ...(endpoint.namedPorts?.length ? { NamedPorts: endpoint.namedPorts } : {}),
    };
    await this.store.upsertLocal(endpoint.ip, pair);
  }

  async delete(ip: string): Promise<void> {
    await this.store.deleteLocal(ip);
  }

  lookup(ip: string): IPIdentityPair | undefined {
    return this.store.get(ip);
  }

  /** Every node's entries, by IP. */
  entries(): ReadonlyMap<string, IPIdentityPair> {
    return this.store.entries();
  }

  onChange(listener: (event: IPCacheEvent) => void): () => void {
    return this.store.onChange(listener);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
