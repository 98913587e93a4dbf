// The agent's ipcache table to the kvstore: this node's endpoint IPs with their identities, published under
// the node's lease for every other node to see (upstream IPIdentityPair under cilium/state/ip/v1/).
import type { IPCacheSync } from '@cilium-ts/identity';
import type { IpcacheEntry, IpcachePublisher } from '../seams.js';
import type { ClusterIpcache } from './cluster-state.js';

function ipOf(entry: IpcacheEntry): string {
  const slash = entry.prefix.indexOf('/');
  return slash < 0 ? entry.prefix : entry.prefix.slice(0, slash);
}

/** Only the endpoints' own addresses are this node's to publish; other sources came from elsewhere. */
function isOwn(entry: IpcacheEntry): boolean {
  return entry.source === 'endpoint' && /\/(32|128)$/.test(entry.prefix);
}

export class KvstoreIpcachePublisher implements IpcachePublisher {
  constructor(
    private readonly sync: IPCacheSync,
    private readonly cluster: ClusterIpcache,
    private readonly nodeName: string,
    private readonly nodeIP: string,
  ) {}

  async update(entry: IpcacheEntry): Promise<void> {
    if (!isOwn(entry)) return;
    const ip = ipOf(entry);
    const hostIP = entry.hostIP ?? this.nodeIP;
    this.cluster.publishLocal({
      ip,
      prefix: entry.prefix,
      identity: entry.identity,
      hostIP,
      node: this.nodeName,
      ...(entry.namespace ? { namespace: entry.namespace } : {}),
      ...(entry.podName ? { podName: entry.podName } : {}),
    });
    await this.sync.upsert({
      ip,
      identity: entry.identity,
      hostIP,
      ...(entry.namespace ? { k8sNamespace: entry.namespace } : {}),
      ...(entry.podName ? { k8sPodName: entry.podName } : {}),
    });
  }

  async delete(entry: IpcacheEntry): Promise<void> {
    if (!isOwn(entry)) return;
    const ip = ipOf(entry);
    this.cluster.withdrawLocal(ip);
    await this.sync.delete(ip);
  }

  /** Deletes this node's entries that the agent no longer has, e.g. left over from before a restart. */
  async prune(desired: readonly IpcacheEntry[]): Promise<void> {
    await this.sync.synced;
    const wanted = new Set(desired.filter(isOwn).map(ipOf));
    const metadata = `cilium-global:${this.sync.cluster}:${this.nodeName}`;
    for (const [ip, pair] of [...this.sync.entries()]) {
      if (pair.Metadata !== metadata || wanted.has(ip)) continue;
      this.cluster.withdrawLocal(ip);
      await this.sync.delete(ip);
    }
  }
}
