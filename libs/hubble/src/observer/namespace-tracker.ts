import { create } from '@bufbuild/protobuf';
import { NamespaceSchema, type Flow, type Namespace } from '@cilium-ts/proto';

const DEFAULT_TTL_MS = 60 * 60 * 1000;

/** Namespaces seen in flows, forgotten an hour after their last flow (GetNamespaces). */
export class NamespaceTracker {
  private readonly lastSeen = new Map<string, { cluster: string; namespace: string; time: number }>();

  constructor(private readonly ttlMs: number = DEFAULT_TTL_MS) {}

  observe(flow: Flow, time: number = Date.now()): void {
    for (const ep of [flow.source, flow.destination]) {
      if (!ep || ep.namespace === '') continue;
      const key = `${ep.clusterName}/${ep.namespace}`;
      const entry = this.lastSeen.get(key);
      if (entry) entry.time = time;
      else this.lastSeen.set(key, { cluster: ep.clusterName, namespace: ep.namespace, time });
    }
  }

  /** Sorted by cluster, then namespace. */
  list(now: number = Date.now()): Namespace[] {
    const out: Namespace[] = [];
    for (const [key, e] of this.lastSeen) {
      if (now - e.time > this.ttlMs) {
        this.lastSeen.delete(key);
        continue;
      }
      out.push(create(NamespaceSchema, { cluster: e.cluster, namespace: e.namespace }));
    }
    // Byte order, as upstream's Go sort.
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    return out.sort((a, b) => cmp(a.cluster, b.cluster) || cmp(a.namespace, b.namespace));
  }
}
