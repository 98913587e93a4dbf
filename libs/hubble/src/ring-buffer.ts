import { create } from '@bufbuild/protobuf';
import { LostEventSchema, LostEventSource, type AgentEvent, type DebugEvent, type Flow, type LostEvent } from '@cilium-ts/proto';

/** What the Hubble ring holds: flows, plus agent and debug events for their own streams. */
export type HubbleEvent = Flow | AgentEvent | DebugEvent | LostEvent;

/** One read from a ring: an event with its sequence number and time, or a report of overwritten events. */
export type RingRead =
  | { readonly kind: 'event'; readonly seq: number; readonly time: number; readonly event: HubbleEvent }
  | { readonly kind: 'lost'; readonly seq: number; readonly time: number; readonly event: LostEvent };

export const DEFAULT_RING_CAPACITY = 4095;
const MAX_RING_CAPACITY = 65535;

/**
 * A fixed-size ring of events, overwriting the oldest. Writes are O(1) and never copy; readers
 * keep their own cursor (a sequence number) and learn from it when the writer has lapped them.
 *
 * Capacity is 2^k-1 like upstream's (`--hubble-event-buffer-capacity`), so ServerStatus reports the
 * same max_flows for the same setting.
 */
export class RingBuffer {
  readonly capacity: number;
  private readonly mask: number;
  private readonly events: (HubbleEvent | undefined)[];
  private readonly times: Float64Array;
  private next = 0;
  private waiters: (() => void)[] = [];

  constructor(capacity: number = DEFAULT_RING_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_RING_CAPACITY || ((capacity + 1) & capacity) !== 0) {
      throw new RangeError(`ring buffer capacity: must be 2^k-1 between 1 and ${MAX_RING_CAPACITY}, got ${capacity}`);
    }
    this.capacity = capacity;
    this.mask = capacity;
    this.events = new Array<HubbleEvent | undefined>(capacity + 1);
    this.times = new Float64Array(capacity + 1);
  }

  /** Number of events ever written; the sequence number the next write gets. */
  get written(): number {
    return this.next;
  }

  /** Sequence number of the oldest event still held. */
  get oldest(): number {
    return Math.max(0, this.next - this.capacity);
  }

  get length(): number {
    return this.next - this.oldest;
  }

  /** Appends an event; `time` is milliseconds since the epoch (fractions allowed). */
  write(event: HubbleEvent, time: number): void {
    const slot = this.next & this.mask;
    this.events[slot] = event;
    this.times[slot] = time;
    this.next++;
    if (this.waiters.length > 0) {
      const waiting = this.waiters;
      this.waiters = [];
      for (const wake of waiting) wake();
    }
  }

  /** The event with sequence number `seq`, if it is still held. */
  get(seq: number): { readonly time: number; readonly event: HubbleEvent } | undefined {
    if (seq < this.oldest || seq >= this.next) return undefined;
    const slot = seq & this.mask;
    return { time: this.times[slot] ?? 0, event: this.events[slot] as HubbleEvent };
  }

  timeAt(seq: number): number | undefined {
    if (seq < this.oldest || seq >= this.next) return undefined;
    return this.times[seq & this.mask];
  }

  /** A reader starting at `seq` (default: the oldest event held). */
  reader(seq: number = this.oldest): RingReader {
    return new RingReader(this, seq);
  }

  /** Resolves at the next write, or when `signal` aborts. */
  waitForWrite(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      };
      this.waiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** A cursor into a ring. Being lapped yields one `lost` read counting what was overwritten. */
export class RingReader {
  constructor(
    private readonly ring: RingBuffer,
    private cursor: number,
  ) {}

  get position(): number {
    return this.cursor;
  }

  /** The next read, or `undefined` when the reader has caught up with the writer. */
  next(now: () => number = Date.now): RingRead | undefined {
    const oldest = this.ring.oldest;
    if (this.cursor < oldest) {
      const lost = oldest - this.cursor;
      const seq = this.cursor;
      this.cursor = oldest;
      return {
        kind: 'lost',
        seq,
        time: now(),
        event: create(LostEventSchema, { source: LostEventSource.HUBBLE_RING_BUFFER, numEventsLost: BigInt(lost) }),
      };
    }
    const entry = this.ring.get(this.cursor);
    if (!entry) return undefined;
    const seq = this.cursor++;
    return { kind: 'event', seq, time: entry.time, event: entry.event };
  }

  /** Reads forever, waiting for new events at the head, until `signal` aborts. */
  async *follow(signal?: AbortSignal): AsyncGenerator<RingRead> {
    while (!signal?.aborted) {
      const read = this.next();
      if (read) {
        yield read;
        continue;
      }
      await this.ring.waitForWrite(signal);
    }
  }
}
