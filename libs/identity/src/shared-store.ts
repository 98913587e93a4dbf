// A store of per-node entries in etcd, as upstream's kvstore SharedStore: this node's entries go
// under its lease (and come back after the lease is lost), everyone's are mirrored by a watch.
import type { Kvstore } from './kvstore.js';
import { watchPrefix, type PrefixWatch } from './prefix-watch.js';
import { Listeners } from './listeners.js';

export interface SharedStoreEvent<T> {
  kind: 'upsert' | 'delete';
  /** The key below the store's prefix. */
  name: string;
  value: T;
}

export interface Codec<T> {
  encode(value: T): string;
  decode(text: string): T;
}

export class SharedStore<T> {
  private readonly mirror = new Map<string, T>();
  private readonly listeners = new Listeners<SharedStoreEvent<T>>();
  private readonly watch: PrefixWatch;
  readonly synced: Promise<void>;
  private decodeErrors = 0;

  constructor(
    private readonly kv: Kvstore,
    readonly prefix: string,
    private readonly codec: Codec<T>,
  ) {
    this.watch = watchPrefix(kv, prefix, (event) => {
      const name = event.key.slice(prefix.length);
      if (event.kind === 'delete') {
        const value = this.mirror.get(name);
        if (value === undefined) return;
        this.mirror.delete(name);
        this.listeners.emit({ kind: 'delete', name, value });
        return;
      }
      let value: T;
      try {
        value = codec.decode(event.value);
      } catch {
        // Another writer's malformed entry must not break the mirror of everyone else's.
        this.decodeErrors++;
        return;
      }
      this.mirror.set(name, value);
      this.listeners.emit({ kind: 'upsert', name, value });
    });
    this.synced = this.watch.synced;
  }

  /** Entries that could not be decoded and were left out. */
  get malformedEntries(): number {
    return this.decodeErrors;
  }

  async upsertLocal(name: string, value: T): Promise<void> {
    await this.kv.putOwned(this.prefix + name, this.codec.encode(value));
  }

  async deleteLocal(name: string): Promise<void> {
    await this.kv.deleteOwned(this.prefix + name);
  }

  get(name: string): T | undefined {
    return this.mirror.get(name);
  }

  entries(): ReadonlyMap<string, T> {
    return this.mirror;
  }

  onChange(listener: (event: SharedStoreEvent<T>) => void): () => void {
    return this.listeners.add(listener);
  }


  async close(): Promise<void> {
    await this.watch.close();
  }
}
