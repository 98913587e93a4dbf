// A "node" of the identity layer for tests: its own kvstore client, cache and allocator.
import { IdentityAllocator } from '../src/allocator.js';
import { IdentityCache } from '../src/identity-cache.js';
import { Kvstore, type KvstoreOptions } from '../src/kvstore.js';

export interface TestNode {
  kv: Kvstore;
  cache: IdentityCache;
  allocator: IdentityAllocator;
  close(): Promise<void>;
}

export async function startNode(
  endpoint: string,
  nodeName: string,
  options: Partial<KvstoreOptions> = {},
): Promise<TestNode> {
  const kv = new Kvstore({ endpoints: endpoint, nodeName, ...options });
  const cache = new IdentityCache(kv);
  const allocator = new IdentityAllocator(kv, cache);
  await cache.synced;
  return {
    kv,
    cache,
    allocator,
    async close() {
      allocator.close();
      await cache.close();
      await kv.close();
    },
  };
}

/** Polls until `check` returns something other than undefined or false: for state that arrives
 * through a watch, or that etcd changes on its own (lease expiry). */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
