import { RingBufferReader, type BpfMap } from '@cilium-ts/datapath-native';
import { decodeEvent, type DatapathEvent } from '@cilium-ts/bpf-programs';
import type { DatapathEventSource } from '../seams.js';

/**
 * The datapath's ring buffer, read on the addon's native thread and decoded here once for every
 * listener (Hubble, cilium monitor); a listener that throws does not stop the others.
 */
export class DatapathEvents implements DatapathEventSource {
  private readonly reader: RingBufferReader;
  private readonly listeners = new Set<(events: readonly DatapathEvent[]) => void>();
  private decoded = 0;
  private undecodable = 0;

  constructor(ring: BpfMap) {
    this.reader = new RingBufferReader(ring, (batch) => this.dispatch(batch), { maxPending: 65_536 });
  }

  private dispatch(batch: Buffer[]): void {
    const events: DatapathEvent[] = [];
    for (const b of batch) {
      try {
        events.push(decodeEvent(b));
      } catch {
        this.undecodable++;
      }
    }
    this.decoded += events.length;
    if (events.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(events);
      } catch (err) {
        console.error(`cilium-agent: datapath event listener failed: ${(err as Error).message}`);
      }
    }
  }

  subscribe(listener: (events: readonly DatapathEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): { events: number; undecodable: number; lostInUserspace: number } {
    return { events: this.decoded, undecodable: this.undecodable, lostInUserspace: this.reader.stats.droppedInUserspace };
  }

  close(): Promise<void> {
    this.listeners.clear();
    return this.reader.close();
  }
}
