import { constants } from 'node:os';
import { BpfError } from './bpf-error.js';
import { binding, bpfError, fdFinalizer, type MapDescriptor } from './native.js';
import type { BpfProgram } from './bpf-program.js';

const { errno } = constants;

export type MapType =
  | 'hash' | 'array' | 'prog_array' | 'percpu_hash' | 'percpu_array' | 'lru_hash' | 'lru_percpu_hash' | 'lpm_trie'
  | 'array_of_maps' | 'hash_of_maps' | 'ringbuf' | 'perf_event_array' | (string & {});
export type UpdateFlag = 'any' | 'noexist' | 'exist';

export interface MapInfo {
  name: string;
  type: MapType;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  id: number;
}

export interface CreateMapOptions {
  type: MapType;
  name?: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* map flags; lpm_trie defaults to BPF_F_NO_PREALLOC, which the kernel requires for it. */
  flags?: number;
  /** Template for the inner maps of array_of_maps / hash_of_maps. */
  innerMap?: BpfMap;
}

const BPF_F_NO_PREALLOC = 1;
const UPDATE_FLAGS: Record<UpdateFlag, number> = { any: 0, noexist: 1, exist: 2 };
const PER_CPU_TYPES = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);

let possibleCpusCache: number | undefined;
function possibleCpus(): number {
  possibleCpusCache ??= binding.numPossibleCpus();
  return possibleCpusCache;
}

function updateFlag(flag: UpdateFlag): number {
  const value = UPDATE_FLAGS[flag];
  if (value === undefined) throw bpfError('bpf_map_update_elem', String(flag), errno.EINVAL, 'flag must be any, noexist or exist');
  return value;
}

/**
 * A BPF map owned through its own file descriptor. Keys and values are Buffers of exactly
 * keySize / valueSize bytes. Per-CPU maps hold one value per possible CPU; the kernel lays them
 * out 8-byte aligned, which is what lookup() returns and what update() accepts as one Buffer.
 */
export class BpfMap {
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly id: number;
  readonly isPerCpu: boolean;
  readonly possibleCpus: number;
  /** Bytes of one value as the syscall sees it (all CPUs' slots for per-CPU maps). */
  readonly valueBytes: number;
  #fd: number;
  // Reused output buffers: results are copied out of them in JS, which is cheaper than a fresh
  // Buffer from native code for every call.
  readonly #valueScratch: Buffer;
  readonly #keyScratch: Buffer;
  // Errors name the map; an unnamed one by type and id.
  readonly #subject: string;

  /** @internal Maps come from BpfObject.load, BpfMap.create or BpfMap.openPinned. */
  constructor(d: MapDescriptor) {
    this.name = d.name;
    this.type = d.type;
    this.keySize = d.keySize;
    this.valueSize = d.valueSize;
    this.maxEntries = d.maxEntries;
    this.flags = d.flags;
    this.id = d.id;
    this.isPerCpu = PER_CPU_TYPES.has(d.type);
    this.possibleCpus = this.isPerCpu ? possibleCpus() : 1;
    this.valueBytes = this.isPerCpu ? this.#slotSize() * this.possibleCpus : d.valueSize;
    this.#subject = d.name || `${d.type} map ${d.id}`;
    this.#valueScratch = Buffer.alloc(this.valueBytes);
    this.#keyScratch = Buffer.alloc(this.keySize);
    this.#fd = d.fd;
    fdFinalizer.register(this, d.fd, this);
  }

  static create(opts: CreateMapOptions): BpfMap {
    const flags = opts.flags ?? (opts.type === 'lpm_trie' ? BPF_F_NO_PREALLOC : 0);
    const inner = opts.innerMap === undefined ? -1 : opts.innerMap.fd;
    return new BpfMap(binding.mapCreate(opts.type, opts.name ?? '', opts.keySize, opts.valueSize, opts.maxEntries, flags, inner));
  }

  /** Opens a map pinned in bpffs; its name is the kernel's (at most 15 characters). */
  static openPinned(path: string): BpfMap {
    return new BpfMap(binding.mapOpenPinned(path));
  }

  get fd(): number {
    if (this.#fd < 0) throw bpfError('bpf_map', this.#subject, errno.EBADF, 'the map was closed');
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  info(): MapInfo {
    const d = binding.mapInfo(this.fd, this.name);
    return { name: d.name, type: d.type, keySize: d.keySize, valueSize: d.valueSize, maxEntries: d.maxEntries, flags: d.flags, id: d.id };
  }

  lookup(key: Buffer): Buffer | undefined {
    return binding.mapLookupInto(this.fd, key, this.keySize, this.#valueScratch, this.#subject) ? Buffer.from(this.#valueScratch) : undefined;
  }

  lookupPerCpu(key: Buffer): Buffer[] | undefined {
    const raw = this.lookup(key);
    return raw === undefined ? undefined : this.#splitPerCpu(raw);
  }

  /** For per-CPU maps, `value` may be one Buffer per possible CPU. */
  update(key: Buffer, value: Buffer | Buffer[], flag: UpdateFlag = 'any'): void {
    const raw = Array.isArray(value) ? this.#joinPerCpu(value) : value;
    binding.mapUpdate(this.fd, key, this.keySize, raw, this.valueBytes, updateFlag(flag), this.#subject);
  }

  /** Returns false if the key was absent. */
  delete(key: Buffer): boolean {
    return binding.mapDelete(this.fd, key, this.keySize, this.#subject);
  }

  *keys(): IterableIterator<Buffer> {
    let key: Buffer | null = null;
    while (binding.mapNextKeyInto(this.fd, key, this.#keyScratch, this.#subject)) {
      key = Buffer.from(this.#keyScratch);
      yield key;
    }
  }

  /** Entries deleted while iterating are skipped. */
  *entries(): IterableIterator<[Buffer, Buffer]> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value !== undefined) yield [key, value];
    }
  }

  /** The whole map with BPF_MAP_LOOKUP_BATCH; map types without batch support (lpm_trie, ...) are
   *  iterated instead. Keys and values are views into one Buffer per call. */
  lookupBatch(opts: { batchSize?: number } = {}): Array<[Buffer, Buffer]> {
    const batch = binding.mapLookupBatch(this.fd, this.keySize, this.valueBytes, opts.batchSize ?? 256, this.#subject);
    if (batch === null) return [...this.entries()];
    const out: Array<[Buffer, Buffer]> = new Array(batch.count);
    for (let i = 0; i < batch.count; i++) {
      out[i] = [
        batch.keys.subarray(i * this.keySize, (i + 1) * this.keySize),
        batch.values.subarray(i * this.valueBytes, (i + 1) * this.valueBytes),
      ];
    }
    return out;
  }

  /** BPF_MAP_UPDATE_BATCH takes no per-element flags: with 'noexist' or 'exist' the elements are
   *  written one by one, stopping at the first that fails (the error names its index). */
  updateBatch(keys: Buffer[], values: Buffer[], flag: UpdateFlag = 'any'): void {
    if (keys.length !== values.length) {
      throw bpfError('bpf_map_update_batch', this.#subject, errno.EINVAL, `${keys.length} keys but ${values.length} values`);
    }
    if (flag !== 'any') {
      const flags = updateFlag(flag);
      keys.forEach((key, i) => {
        try {
          binding.mapUpdate(this.fd, key, this.keySize, values[i] as Buffer, this.valueBytes, flags, this.#subject);
        } catch (e) {
          if (!(e instanceof BpfError)) throw e;
          throw bpfError(e.operation, this.#subject, e.errno, `element ${i} of ${keys.length}`);
        }
      });
      return;
    }
    binding.mapUpdateBatch(this.fd, Buffer.concat(keys), Buffer.concat(values), keys.length, this.keySize, this.valueBytes, updateFlag(flag), this.#subject);
  }

  /** Returns how many of the keys were present and deleted. */
  deleteBatch(keys: Buffer[]): number {
    return binding.mapDeleteBatch(this.fd, Buffer.concat(keys), keys.length, this.keySize, this.#subject);
  }

  /** prog_array: put a program in a slot (tail-call target). */
  setProgram(index: number, prog: BpfProgram): void {
    this.update(u32(index), u32(prog.fd));
  }

  /** array_of_maps / hash_of_maps with 4-byte keys: put an inner map in a slot. */
  setInnerMap(key: number | Buffer, inner: BpfMap): void {
    this.update(typeof key === 'number' ? u32(key) : key, u32(inner.fd));
  }

  pin(path: string): void {
    binding.pinObject(this.fd, path, this.#subject);
  }

  unpin(path: string): void {
    binding.unpinObject(path);
  }

  /** Idempotent. Pins stay. */
  close(): void {
    if (this.#fd < 0) return;
    fdFinalizer.unregister(this);
    binding.closeFd(this.#fd);
    this.#fd = -1;
  }

  #slotSize(): number {
    return Math.ceil(this.valueSize / 8) * 8;
  }

  #splitPerCpu(raw: Buffer): Buffer[] {
    const slot = this.#slotSize();
    const out: Buffer[] = [];
    for (let cpu = 0; cpu < this.possibleCpus; cpu++) out.push(raw.subarray(cpu * slot, cpu * slot + this.valueSize));
    return out;
  }

  #joinPerCpu(values: Buffer[]): Buffer {
    if (!this.isPerCpu || values.length !== this.possibleCpus) {
      const want = this.isPerCpu ? `${this.possibleCpus} per-CPU values` : 'a single Buffer (not a per-CPU map)';
      throw bpfError('bpf_map_update_elem', this.#subject, errno.EINVAL, `got ${values.length} values, expected ${want}`);
    }
    const slot = this.#slotSize();
    const raw = Buffer.alloc(slot * this.possibleCpus);
    values.forEach((v, cpu) => {
      if (v.length !== this.valueSize) {
        throw bpfError('bpf_map_update_elem', this.#subject, errno.EINVAL, `value for CPU ${cpu} is ${v.length} bytes, expected ${this.valueSize}`);
      }
      v.copy(raw, cpu * slot);
    });
    return raw;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
