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

/** How long entries of a previous run may wait for their endpoint to be restored before they count as strays. */
export const STRAY_GRACE_MS = 30_000;

export class KvstoreIpcachePublisher implements IpcachePublisher {
  /** IPs this process has published (and not withdrawn). */
  private readonly published = new Set<string>();
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly sync: IPCacheSync,
    private readonly cluster: ClusterIpcache,
    private readonly nodeName: string,
    private readonly nodeIP: string,
    private readonly strayGraceMs = STRAY_GRACE_MS,
  ) {}

  async update(entry: IpcacheEntry): Promise<void> {
    if (!isOwn(entry)) return;
    const ip = ipOf(entry);
    const hostIP = entry.hostIP ?? this.nodeIP;
    this.published.add(ip);
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
    this.published.delete(ip);
    this.cluster.withdrawLocal(ip);
    await this.sync.delete(ip);
  }

  /**
   * This node's entries that nothing publishes any more (endpoints deleted while the agent was down) are
   * removed after a grace period, not at once: the agent prunes when it starts, before its endpoints are
   * restored, and deleting their entries then would make other nodes drop traffic to them meanwhile. The
   * previous run's lease expiring removes whatever is left. Never waits for etcd.
   */
  async prune(_desired: readonly IpcacheEntry[]): Promise<void> {
    if (this.sweep) return;
    this.sweep = setTimeout(() => void this.removeStrays().catch(() => undefined), this.strayGraceMs);
    this.sweep.unref();
  }

  close(): void {
    if (this.sweep) clearTimeout(this.sweep);
  }

  private async removeStrays(): Promise<void> {
    this.sweep = undefined;
    await this.sync.synced;
    const metadata = `cilium-global:${this.sync.cluster}:${this.nodeName}`;
    for (const [ip, pair] of [...this.sync.entries()]) {
      if (pair.Metadata !== metadata || this.published.has(ip)) continue;
      this.cluster.withdrawLocal(ip);
      await this.sync.delete(ip);
    }
  }
}
