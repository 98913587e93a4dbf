import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { timestampToMs } from '@cilium-ts/hubble';

/** Anything with a T's time (decoded or lazy responses). */
export interface Timed {
  readonly time?: Timestamp | undefined;
}

interface Entry<T> {
  readonly time: number;
  readonly arrival: number;
  readonly seq: number;
  readonly response: T;
}

const before = <T>(a: Entry<T>, b: Entry<T>) => a.time < b.time || (a.time === b.time && a.seq < b.seq);

/**
 * The relay's bounded sort buffer: a min-heap of responses keyed by their time. When it is full
 * the oldest entry leaves before a new one enters; entries that have waited the drain timeout
 * leave on their own, so a quiet stream is not held back.
 */
export class SortBuffer<T extends Timed> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;

  constructor(
    readonly capacity: number,
    private readonly drainTimeoutMs: number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Adds a response; returns the one that had to leave to make room, if any. */
  push(response: T, now: number): T | undefined {
    const out = this.heap.length >= this.capacity ? this.pop() : undefined;
    const time = SortBuffer.timeOf(response, now);
    this.heap.push({ time, arrival: now, seq: this.seq++, response });
    this.up(this.heap.length - 1);
    return out;
  }

  /**
   * Responses that may leave at `now` while input keeps coming: the oldest while it has waited
   * the drain timeout in the buffer, so a slow trickle of flows is not held back indefinitely.
   */
  drainDue(now: number): T[] {
    const out: T[] = [];
    const cutoff = now - this.drainTimeoutMs;
    for (let top = this.heap[0]; top && top.arrival <= cutoff; top = this.heap[0]) out.push(this.popEntry().response);
    return out;
  }

  /**
   * Upstream's rule after the drain timeout passed with no input: the oldest while its time is
   * before now - drain timeout (or it has waited that long, so a node whose clock runs ahead
   * cannot hold it).
   */
  drainIdle(now: number): T[] {
    const out: T[] = [];
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

  /**
   * Responses no older than `time`: once every stream has sent something at least that recent,
   * nothing older can still come (each node's stream is in time order).
   */
  releaseUpTo(time: number): T[] {
    const out: T[] = [];
    for (let top = this.heap[0]; top && top.time <= time; top = this.heap[0]) out.push(this.popEntry().response);
    return out;
  }

  /** The time key of a response (its time, or `now` when it has none). */
  static timeOf(response: Timed, now: number): number {
    return response.time ? timestampToMs(response.time) : now;
  }

  /** Everything left, oldest first (end of a request). */
  drainAll(): T[] {
    const out: T[] = [];
    while (this.heap.length > 0) out.push(this.popEntry().response);
    return out;
  }

  private pop(): T {
    return this.popEntry().response;
  }

  private popEntry(): Entry<T> {
    const top = this.heap[0] as Entry<T>;
    const last = this.heap.pop() as Entry<T>;
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
      if (!before(h[i] as Entry<T>, h[parent] as Entry<T>)) break;
      [h[i], h[parent]] = [h[parent] as Entry<T>, h[i] as Entry<T>];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l] as Entry<T>, h[m] as Entry<T>)) m = l;
      if (r < h.length && before(h[r] as Entry<T>, h[m] as Entry<T>)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as Entry<T>, h[i] as Entry<T>];
      i = m;
    }
  }
}

/** Upstream's queue length: `number × peers` when that is between 1 and 99, else --sort-buffer-len-max. */
export function sortBufferLength(number: bigint, peers: number, lenMax: number): number {
  const n = number * BigInt(peers);
  return n >= 1n && n < 100n ? Number(n) : lenMax;
}
