import { timestampToMs } from '@cilium-ts/hubble';
import type { GetFlowsResponse } from '@cilium-ts/proto';

interface Entry {
  readonly time: number;
  readonly arrival: number;
  readonly seq: number;
  readonly response: GetFlowsResponse;
}

const before = (a: Entry, b: Entry) => a.time < b.time || (a.time === b.time && a.seq < b.seq);

/**
 * The relay's bounded sort buffer: a min-heap of responses keyed by their time. When it is full
 * the oldest entry leaves before a new one enters; entries that have waited the drain timeout
 * leave on their own, so a quiet stream is not held back.
 */
export class SortBuffer {
  private readonly heap: Entry[] = [];
  private seq = 0;

  constructor(
    readonly capacity: number,
    private readonly drainTimeoutMs: number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Adds a response; returns the one that had to leave to make room, if any. */
  push(response: GetFlowsResponse, now: number): GetFlowsResponse | undefined {
    const out = this.heap.length >= this.capacity ? this.pop() : undefined;
    const time = response.time ? timestampToMs(response.time) : now;
    this.heap.push({ time, arrival: now, seq: this.seq++, response });
    this.up(this.heap.length - 1);
    return out;
  }

  /**
   * Responses that may leave at `now` while input keeps coming: the oldest while it has waited
   * the drain timeout in the buffer, so a slow trickle of flows is not held back indefinitely.
   */
  drainDue(now: number): GetFlowsResponse[] {
    const out: GetFlowsResponse[] = [];
    const cutoff = now - this.drainTimeoutMs;
    for (let top = this.heap[0]; top && top.arrival <= cutoff; top = this.heap[0]) out.push(this.popEntry().response);
    return out;
  }

  /**
   * Upstream's rule after the drain timeout passed with no input: the oldest while its time is
   * before now - drain timeout (or it has waited that long, so a node whose clock runs ahead
   * cannot hold it).
   */
  drainIdle(now: number): GetFlowsResponse[] {
    const out: GetFlowsResponse[] = [];
    const cutoff = now - this.drainTimeoutMs;
    for (let top = this.heap[0]; top && (top.time <= cutoff || top.arrival <= cutoff); top = this.heap[0]) out.push(this.popEntry().response);
    return out;
  }

  /** Milliseconds until drainDue() would release something, or undefined when empty. */
  nextDueIn(now: number): number | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    return Math.max(0, top.arrival + this.drainTimeoutMs - now);
  }

  /** Everything left, oldest first (end of a request). */
  drainAll(): GetFlowsResponse[] {
    const out: GetFlowsResponse[] = [];
    while (this.heap.length > 0) out.push(this.popEntry().response);
    return out;
  }

  private pop(): GetFlowsResponse {
    return this.popEntry().response;
  }

  private popEntry(): Entry {
    const top = this.heap[0] as Entry;
    const last = this.heap.pop() as Entry;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as Entry, h[parent] as Entry)) break;
      [h[i], h[parent]] = [h[parent] as Entry, h[i] as Entry];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l] as Entry, h[m] as Entry)) m = l;
      if (r < h.length && before(h[r] as Entry, h[m] as Entry)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as Entry, h[i] as Entry];
      i = m;
    }
  }
}

/** Upstream's queue length: `number × peers` when that is between 1 and 99, else --sort-buffer-len-max. */
export function sortBufferLength(number: bigint, peers: number, lenMax: number): number {
  const n = number * BigInt(peers);
  return n >= 1n && n < 100n ? Number(n) : lenMax;
}
