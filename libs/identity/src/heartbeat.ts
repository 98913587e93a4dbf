// The kvstore heartbeat: the operator writes the time to `cilium/.heartbeat` every minute under
// its lease; agents treat etcd as stale when it has not changed for more than twice the interval.
import type { Kvstore } from './kvstore.js';
import { watchPrefix, type PrefixWatch } from './prefix-watch.js';

export const HEARTBEAT_KEY = 'cilium/.heartbeat';
/** Upstream's HeartbeatWriteInterval. */
export const HEARTBEAT_INTERVAL_MS = 60_000;

/** Writes the heartbeat now and then every `intervalMs`; returns a function that stops it. */
export function startHeartbeat(kv: Kvstore, intervalMs = HEARTBEAT_INTERVAL_MS): () => void {
  let stopped = false;
  const beat = () => {
    if (stopped) return;
    kv.putOwned(HEARTBEAT_KEY, new Date().toISOString()).catch(() => undefined);
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Follows the heartbeat key; `stale()` says whether the writer has gone quiet. */
export class HeartbeatMonitor {
  private lastSeen: number | undefined;
  private readonly watch: PrefixWatch;
  readonly synced: Promise<void>;

  constructor(
    kv: Kvstore,
    private readonly intervalMs = HEARTBEAT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.watch = watchPrefix(kv, HEARTBEAT_KEY, (event) => {
      if (event.key === HEARTBEAT_KEY && event.kind === 'upsert') this.lastSeen = this.now();
    });
    this.synced = this.watch.synced;
  }

  /** When this node last saw the heartbeat change, if ever. */
  get lastBeat(): number | undefined {
    return this.lastSeen;
  }

  stale(): boolean {
    return this.lastSeen === undefined || this.now() - this.lastSeen > 2 * this.intervalMs;
  }

  async close(): Promise<void> {
    await this.watch.close();
  }
}
