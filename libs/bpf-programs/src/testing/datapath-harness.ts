// Loads the real objects with a private pin root so tests and benchmarks get
// their own shared maps, and runs packets through them with BPF_PROG_TEST_RUN.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { BpfObject, RingBufferReader, type BpfMap, type BpfProgram } from '@cilium-ts/datapath-native';
import { type DatapathEvent, decodeEvent } from '../codecs/events.js';
import { type MetricDirection, type MetricsValue, encodeMetricsKey, sumMetrics } from '../codecs/metrics.js';
import { decodePolicyPrefixSet } from '../codecs/policy.js';
import { endpointIdKey } from '../endpoint-policy.js';
import { EndpointPrograms, type NodeConstants } from '../endpoint-programs.js';
import { type ObjectName, objectPath } from '../objects.js';
import type { PolicyRuleEntry } from '../policy-entries.js';

export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

/** An endpoint for the tests: registered in the node's maps, run through the node's one program load. */
export interface EndpointConfig extends NodeConstants {
  id: number;
  identity: number;
  /** The pod's addresses (its packets must come from one of them). */
  ips: readonly string[];
  /** Host-side veth; default 1: BPF_PROG_TEST_RUN runs packets as if on the loopback device. */
  ifindex?: number;
  /** Default 02:00:00:00:<id>. */
  mac?: string;
  /** MAC of the host-side veth: the program answers the pod's ARP requests with it. */
  nodeMac?: string;
  /** Leave it out of cilium_call_policy (senders then redirect to its veth). */
  noTailCall?: boolean;
}

export type EndpointProgramName = 'cil_from_container' | 'cil_to_container' | 'cil_lxc_policy';

/** Something whose programs TestDatapath.run can run: a loaded object or a TestEndpoint. */
export interface ProgramSource {
  program(name: string): BpfProgram;
}

export class TestEndpoint implements ProgramSource {
  constructor(readonly programs: EndpointPrograms, readonly id: number, readonly ips: readonly string[]) {}

  program(name: string): BpfProgram {
    const { fromContainer, toContainer, policy } = this.programs.programs;
    const byName: Record<EndpointProgramName, BpfProgram> = {
      cil_from_container: fromContainer, cil_to_container: toContainer, cil_lxc_policy: policy,
    };
    const prog = byName[name as EndpointProgramName];
    if (!prog) throw new Error(`TestEndpoint.program(${name}): not an endpoint program`);
    return prog;
  }

  writePolicy(rules: readonly PolicyRuleEntry[]): number {
    return this.programs.writePolicy(this.id, rules);
  }

  /** The endpoint's current policy map. */
  policyMap(): BpfMap {
    const map = this.programs.policyMap(this.id);
    if (!map) throw new Error(`endpoint ${this.id}: no policy map written`);
    return map;
  }

  /** cilium_pol_lens[id] as a list of prefix lengths. */
  prefixLengths(): number[] {
    const v = this.programs.prefixLengths.lookup(endpointIdKey(this.id));
    return v ? decodePolicyPrefixSet(v) : [];
  }
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
  #programs: EndpointPrograms | undefined;

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

  /** The node's endpoint programs, loaded on first use with these constants. */
  programs(constants: NodeConstants = {}): EndpointPrograms {
    if (!this.#programs) {
      this.#programs = EndpointPrograms.load(this.pinRoot, constants);
      return this.#programs;
    }
    const loaded = this.#programs.constants;
    for (const [k, v] of Object.entries(constants) as Array<[keyof NodeConstants, unknown]>) {
      if (v !== undefined && loaded[k] !== v) {
        throw new Error(`TestDatapath.programs: ${k} ${String(v)} differs from ${String(loaded[k])} of the node's loaded programs`);
      }
    }
    return this.#programs;
  }

  endpoint(cfg: EndpointConfig): TestEndpoint {
    const { id, identity, ips, ifindex, mac, nodeMac, noTailCall, ...constants } = cfg;
    const programs = this.programs(constants);
    programs.registerEndpoint({
      id, identity, ips, ifindex: ifindex ?? 1, mac: mac ?? `02:00:00:00:${(id >> 8).toString(16).padStart(2, '0')}:${(id & 0xff).toString(16).padStart(2, '0')}`,
      ...(nodeMac === undefined ? {} : { nodeMac }), tailCall: !noTailCall,
    });
    return new TestEndpoint(programs, id, ips);
  }

  /** A map shared through the pin root (every loaded datapath object has it). */
  map(name: string): BpfMap {
    const obj = this.objects.find((o) => o.maps.has(name));
    if (obj) return obj.map(name);
    if (this.#programs) return this.#programs.map(name);
    throw new Error(`TestDatapath.map(${name}): no loaded object has this map; load one first`);
  }

  run(source: ProgramSource, program: string, data: Buffer, mark = 0): RunResult {
    const r = source.program(program).testRun({ data, ctx: skbContext(mark) });
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
      this.#programs?.close();
      rmSync(this.pinRoot, { recursive: true, force: true });
    }
  }
}
