// List-then-watch of a key prefix that keeps a local mirror. After a disconnect the watch resumes
// from the last revision it delivered, so no event is missed or delivered twice; if that revision
// was compacted meanwhile it relists and emits only the difference.
import type { IWatchResponse, Watcher } from 'etcd3';
import type { Kvstore } from './kvstore.js';

export interface KvEvent {
  kind: 'upsert' | 'delete';
  key: string;
  /** The new value; for a delete, the last value this watch knew. */
  value: string;
  modRevision: number;
}

export type KvEventHandler = (event: KvEvent) => void;

export class PrefixWatch {
  private readonly mirror = new Map<string, { value: string; modRevision: number }>();
  private watcher: Watcher | undefined;
  private revision = 0;
  private closed = false;
  private resolveSynced!: () => void;
  /** Resolves once the initial list has been delivered. */
  readonly synced: Promise<void>;
  private relists = 0;

  constructor(
    private readonly kv: Kvstore,
    readonly prefix: string,
    private readonly handler: KvEventHandler,
  ) {
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
    void this.relist();
  }

  /** The last etcd revision whose events have all been delivered. */
  get lastRevision(): number {
    return this.revision;
  }

  /** How many times the watch had to fall back to a full list (initial list included). */
  get relistCount(): number {
    return this.relists;
  }

  get(key: string): string | undefined {
    return this.mirror.get(key)?.value;
  }

  entries(): IterableIterator<[string, string]> {
    const it = this.mirror.entries();
    return (function* () {
      for (const [key, entry] of it) yield [key, entry.value] as [string, string];
    })();
  }

  get size(): number {
    return this.mirror.size;
  }

  private emit(event: KvEvent): void {
    try {
      this.handler(event);
    } catch (err) {
      // A subscriber's bug must not stop the watch; surface it without losing later events.
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private async relist(): Promise<void> {
    if (this.closed) return;
    this.relists++;
    let listed: Awaited<ReturnType<Kvstore['list']>>;
    try {
      listed = await this.kv.list(this.prefix);
    } catch {
      return; // closed while listing
    }
    if (this.closed) return;
    const seen = new Set<string>();
    for (const pair of listed.pairs) {
      seen.add(pair.key);
      const known = this.mirror.get(pair.key);
      if (known && known.modRevision === pair.modRevision) continue;
      this.mirror.set(pair.key, { value: pair.value, modRevision: pair.modRevision });
      this.emit({ kind: 'upsert', key: pair.key, value: pair.value, modRevision: pair.modRevision });
    }
    for (const [key, known] of [...this.mirror]) {
      if (seen.has(key)) continue;
      this.mirror.delete(key);
      this.emit({ kind: 'delete', key, value: known.value, modRevision: listed.revision });
    }
    this.revision = listed.revision;
    this.resolveSynced();
    this.startWatcher();
  }

  private startWatcher(): void {
    const watcher = this.kv.client
      .watch()
      .prefix(this.prefix)
      .startRevision(String(this.revision + 1))
      .watcher();
    this.watcher = watcher;
    // etcd3 would resume from the revision in the last response header, which can be ahead of the
    // events actually delivered; resume from our own delivered revision instead.
    // The object emitted is the create request about to be sent (typed loosely by etcd3).
    watcher.on('connecting', (request) => {
      (request as { start_revision?: string }).start_revision = String(this.revision + 1);
    });
    watcher.on('connected', (res: IWatchResponse) => {
      // etcd behind our revision lost its data (restored or replaced): what we mirror is stale.
      if (this.watcher === watcher && Number(res.header.revision) < this.revision) {
        this.watcher = undefined;
        void watcher.cancel().catch(() => undefined);
        setTimeout(() => void this.relist(), 50);
      }
    });
    watcher.on('data', (res: IWatchResponse) => this.apply(res));
    watcher.on('error', () => {
      // Cancelled by etcd, typically because our revision was compacted: list again.
      if (this.watcher !== watcher) return;
      // etcd3 has already dropped a cancelled watcher; a new one resumes after the relist.
      this.watcher = undefined;
      setTimeout(() => void this.relist(), 50);
    });
  }

  private apply(res: IWatchResponse): void {
    // etcd never splits one revision across responses, so a whole response is either new or seen.
    const delivered = this.revision;
    let highest = delivered;
    for (const event of res.events) {
      const modRevision = Number(event.kv.mod_revision);
      if (modRevision <= delivered) continue;
      const key = event.kv.key.toString();
      if (event.type === 'Delete') {
        const known = this.mirror.get(key);
        this.mirror.delete(key);
        if (known) this.emit({ kind: 'delete', key, value: known.value, modRevision });
      } else {
        const value = event.kv.value.toString();
        this.mirror.set(key, { value, modRevision });
        this.emit({ kind: 'upsert', key, value, modRevision });
      }
      highest = Math.max(highest, modRevision);
    }
    this.revision = highest;
  }

  async close(): Promise<void> {
    this.closed = true;
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) await watcher.cancel().catch(() => undefined);
  }
}

export function watchPrefix(kv: Kvstore, prefix: string, handler: KvEventHandler): PrefixWatch {
  return new PrefixWatch(kv, prefix, handler);
}
