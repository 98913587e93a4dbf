import { constants } from 'node:os';
import type { BpfMap } from './bpf-map.js';
import { binding, bpfError, type NativeRingBufferReader } from './native.js';

export interface RingBufferStats {
  /** Events handed to JS. */
  events: number;
  /** Calls of onEvents. */
  batches: number;
  /** Events dropped because JS fell more than maxPending behind. */
  droppedInUserspace: number;
  /** Events read from the kernel, waiting for the JS thread. */
  pending: number;
}

export interface RingBufferReaderOptions {
  /** Most events per onEvents call (default 256). */
  maxBatch?: number;
  /** Most events waiting for JS before newer ones are dropped (default 65 536). */
  maxPending?: number;
  /** How long one poll waits; bounds how quickly close() takes effect (default 100 ms). */
  pollTimeoutMs?: number;
}

/**
 * Reads a BPF ringbuf map on a native thread and delivers its events to `onEvents` in batches on the
 * JS thread; the events of one batch are views into one Buffer. Kernel-side drops (bpf_ringbuf_output failing) are the BPF program's to count.
 * The reader keeps the process alive until close().
 */
export class RingBufferReader {
  readonly #native: NativeRingBufferReader;
  #closing: Promise<void> | undefined;

  constructor(map: BpfMap, onEvents: (events: Buffer[]) => void, opts: RingBufferReaderOptions = {}) {
    if (map.type !== 'ringbuf') {
      throw bpfError('ring_buffer__new', map.name, constants.errno.EINVAL, `map type is ${map.type}, not ringbuf`);
    }
    this.#native = new binding.NativeRingBufferReader(
      map.fd, (packed) => onEvents(unpack(packed)), opts.maxBatch ?? 256, opts.maxPending ?? 65_536, opts.pollTimeoutMs ?? 100, map.name,
    );
  }

  get stats(): RingBufferStats {
    const s = this.#native.stats();
    return { events: s.events, batches: s.batches, droppedInUserspace: s.droppedInUserspace, pending: s.pending };
  }

  /** Stops the thread; resolves once no more onEvents calls will run. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#native.close();
    return this.#closing;
  }
}

/** Splits a batch into views of the one Buffer native code filled (length-prefixed events). */
function unpack(packed: Buffer): Buffer[] {
  const events: Buffer[] = [];
  for (let off = 0; off < packed.length; ) {
    const len = packed.readUInt32LE(off);
    events.push(packed.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return events;
}
