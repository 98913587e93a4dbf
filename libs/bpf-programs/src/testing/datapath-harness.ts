// Loads the real objects with a private pin root so tests and benchmarks get
// their own shared maps, and runs packets through them with BPF_PROG_TEST_RUN.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { BpfObject, RingBufferReader, type BpfMap } from '@cilium-ts/datapath-native';
import { type DatapathEvent, decodeEvent } from '../codecs/events.js';
import { type MetricDirection, type MetricsValue, encodeMetricsKey, sumMetrics } from '../codecs/metrics.js';
import { macBytes } from '../codecs/struct-layout.js';
import { registerEndpointPolicy } from '../map-writers.js';
import { type ObjectName, objectPath } from '../objects.js';

export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

export interface EndpointConfig {
  id: number;
  identity: number;
  ifindex?: number;
  tunnelIfindex?: number;
  traceIntervalNs?: bigint;
  /** 0: wake the event reader adaptively; N: once N bytes wait (see events.h). */
  eventsWakeupBytes?: number;
  /** MAC of the host-side veth: the program answers the pod's ARP requests with it. */
  nodeMac?: string;
  /** Leave it out of cilium_call_policy (senders then redirect to its veth). */
  noTailCall?: boolean;
}

export interface RunResult {
  retval: number;
  mark: number;
  data: Buffer;
  durationNs: number;
}

/** A zeroed __sk_buff (192 bytes on this kernel) with only the mark set. */
function skbContext(mark: number): Buffer {
  const ctx = Buffer.alloc(192);
  ctx.writeUInt32LE(mark >>> 0, 8);
  return ctx;
}

export class TestDatapath {
  readonly pinRoot = `/sys/fs/bpf/cts-test-${randomBytes(4).toString('hex')}`;
  readonly objects: BpfObject[] = [];
  readonly events: DatapathEvent[] = [];
  #reader: RingBufferReader | undefined;

  constructor() {
    mkdirSync(this.pinRoot, { recursive: true });
  }

  load(
    name: ObjectName, constants: Record<string, number | bigint | Buffer> = {}, maxEntries?: Record<string, number>,
  ): BpfObject {
    const obj = BpfObject.load(objectPath(name), { pinRoot: this.pinRoot, constants, ...(maxEntries ? { maxEntries } : {}) });
    this.objects.push(obj);
    return obj;
  }

  endpoint(cfg: EndpointConfig, maxEntries?: Record<string, number>): BpfObject {
    const obj = this.load('bpf_lxc', {
      LXC_ID: cfg.id,
      SECLABEL: cfg.identity,
      LXC_IFINDEX: cfg.ifindex ?? 0,
      ENABLE_TUNNEL: cfg.tunnelIfindex ? 1 : 0,
      TUNNEL_IFINDEX: cfg.tunnelIfindex ?? 0,
      TRACE_INTERVAL_NS: cfg.traceIntervalNs ?? 5_000_000_000n,
      EVENTS_WAKEUP_BYTES: cfg.eventsWakeupBytes ?? 0,
      ...(cfg.nodeMac ? { NODE_MAC: macBytes(cfg.nodeMac) } : {}),
    }, maxEntries);
    if (!cfg.noTailCall) registerEndpointPolicy(obj.map('cilium_call_policy'), cfg.id, obj.program('cil_lxc_policy'));
    return obj;
  }

  /** A map shared through the pin root (every loaded datapath object has it). */
  map(name: string): BpfMap {
    const obj = this.objects.find((o) => o.maps.has(name));
    if (!obj) throw new Error(`TestDatapath.map(${name}): no loaded object has this map; load one first`);
    return obj.map(name);
  }

  run(obj: BpfObject, program: string, data: Buffer, mark = 0): RunResult {
    const r = obj.program(program).testRun({ data, ctx: skbContext(mark) });
    return { retval: r.retval, mark: r.ctx ? r.ctx.readUInt32LE(8) : 0, data: r.data, durationNs: r.durationNs };
  }

  metric(reason: number, direction: MetricDirection): MetricsValue {
    const v = this.map('cilium_metrics').lookupPerCpu(encodeMetricsKey({ reason, direction }));
    return v ? sumMetrics(v) : { count: 0n, bytes: 0n };
  }

  /** Starts collecting ring buffer events into `events`. */
  watchEvents(): void {
    if (this.#reader) return;
    this.#reader = new RingBufferReader(this.map('cilium_events'), (batch) => {
      for (const b of batch) this.events.push(decodeEvent(b));
    }, { pollTimeoutMs: 10 });
  }

  async close(): Promise<void> {
    try {
      await this.#reader?.close();
    } finally {
      for (const o of this.objects) o.close();
      rmSync(this.pinRoot, { recursive: true, force: true });
    }
  }
}
