import { create } from '@bufbuild/protobuf';
import { ServerStatusResponseSchema, type ServerStatusResponse } from '@cilium-ts/proto';
import type { RingBuffer } from '../ring-buffer.js';

export interface ServerStatusOptions {
  readonly startedAt: number;
  readonly version: string;
  readonly now?: number;
}

const RATE_WINDOW_MS = 60_000;

/**
 * A single node's ServerStatus: ring occupancy and capacity, events seen since start, uptime, and
 * flows per second over the last minute. The relay-only node counts stay unset.
 */
export function serverStatus(ring: RingBuffer, options: ServerStatusOptions): ServerStatusResponse {
  const now = options.now ?? Date.now();
  let recent = 0;
  for (let seq = ring.written - 1; seq >= ring.oldest; seq--) {
    const time = ring.timeAt(seq);
    if (time === undefined || time < now - RATE_WINDOW_MS) break;
    recent++;
  }
  return create(ServerStatusResponseSchema, {
    numFlows: BigInt(ring.length),
    maxFlows: BigInt(ring.capacity),
    seenFlows: BigInt(ring.written),
    uptimeNs: BigInt(Math.max(0, Math.round(now - options.startedAt))) * 1_000_000n,
    version: options.version,
    flowsRate: recent / (RATE_WINDOW_MS / 1000),
  });
}
