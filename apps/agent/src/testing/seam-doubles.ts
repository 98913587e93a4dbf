// Test doubles for the regeneration pipeline's seams. They exist only to test the endpoint manager's own
// logic (ordering, state changes, retries, persistence); the real implementations live in the libraries.
import type { AllocatedIdentity, DatapathLoader, EndpointPolicyResult, EndpointView, IdentityAllocator, PolicyComputeOptions, PolicyMapEntry, PolicyResolver } from '../seams.js';

export class IdentityAllocatorDouble implements IdentityAllocator {
  private next = 1000;
  private readonly byLabels = new Map<string, AllocatedIdentity>();
  readonly refs = new Map<number, number>();
  /** When set, allocate() waits for this promise first (to observe waiting-for-identity). */
  gate: Promise<void> | undefined;

  async allocate(labels: readonly string[]): Promise<AllocatedIdentity> {
    await this.gate;
    const key = [...labels].sort().join(',');
    let identity = this.byLabels.get(key);
    if (!identity) {
      identity = { id: this.next++, labels: [...labels].sort() };
      this.byLabels.set(key, identity);
    }
    this.refs.set(identity.id, (this.refs.get(identity.id) ?? 0) + 1);
    return identity;
  }

  async release(id: number): Promise<void> {
    const n = (this.refs.get(id) ?? 0) - 1;
    if (n <= 0) this.refs.delete(id);
    else this.refs.set(id, n);
  }

  async get(id: number): Promise<AllocatedIdentity | undefined> {
    return [...this.byLabels.values()].find((i) => i.id === id);
  }

  async list(): Promise<AllocatedIdentity[]> {
    return [...this.byLabels.values()];
  }
}

/** Allows ingress from every identity it was told about, at the revision it was set to. */
export class PolicyResolverDouble implements PolicyResolver {
  revision = 1;
  allowFrom: number[] = [];
  readonly modes: string[] = [];
  async computeFor(_endpoint: EndpointView, options: PolicyComputeOptions): Promise<EndpointPolicyResult> {
    this.modes.push(options.enforcement);
    const entries: PolicyMapEntry[] = this.allowFrom.map((identity) => ({ direction: 'ingress', identity, protocol: 6, port: 80, verdict: 'allow' }));
    return { revision: this.revision, ingressEnforced: entries.length > 0, egressEnforced: false, entries };
  }
}

export class DatapathLoaderDouble implements DatapathLoader {
  readonly calls: string[] = [];
  readonly policy = new Map<number, readonly PolicyMapEntry[]>();
  /** Number of next writePolicy calls that fail. */
  failWrites = 0;

  async attach(ep: EndpointView): Promise<void> {
    this.calls.push(`attach ${ep.id}`);
  }

  async writePolicy(ep: EndpointView, entries: readonly PolicyMapEntry[]): Promise<void> {
    if (this.failWrites > 0) {
      this.failWrites--;
      this.calls.push(`writePolicy ${ep.id} failed`);
      throw new Error(`bpf_map_update_elem(cilium_policy_${String(ep.id).padStart(5, '0')}): E2BIG Argument list too long`);
    }
    this.calls.push(`writePolicy ${ep.id} (${entries.length})`);
    this.policy.set(ep.id, entries);
  }

  async detach(ep: EndpointView): Promise<void> {
    this.calls.push(`detach ${ep.id}`);
    this.policy.delete(ep.id);
  }
}
