// Node-local identities (CIDR, FQDN): allocated on the node only, in upstream's local scope.
import { IdentityScope, MaxLocalIdentity, labelArrayKey, type Label } from '@cilium-ts/labels';

/** Allocates node-local identities (CIDR, FQDN) for label sets; see {@link InMemoryLocalIdentityAllocator}. */
export interface LocalIdentityAllocator {
  allocateLocalIdentity(labels: readonly Label[]): number;
  releaseLocalIdentity?(id: number): void;
}

/** Hands out `1<<24 | n` for n = 1, 2, ... and returns the same identity for the same labels. */
export class InMemoryLocalIdentityAllocator implements LocalIdentityAllocator {
  private next = 1;
  private readonly byKey = new Map<string, number>();
  private readonly free: number[] = [];

  allocateLocalIdentity(labels: readonly Label[]): number {
    const key = labelArrayKey(labels);
    const existing = this.byKey.get(key);
    if (existing !== undefined) return existing;
    const id = this.free.shift() ?? IdentityScope.local | this.next++;
    if (id > MaxLocalIdentity) throw new Error('allocate local identity: local identity space exhausted');
    this.byKey.set(key, id);
    return id;
  }

  releaseLocalIdentity(id: number): void {
    for (const [key, v] of this.byKey) {
      if (v !== id) continue;
      this.byKey.delete(key);
      this.free.push(id);
    }
  }
}
