import { mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import { BpfMap } from './bpf-map.js';
import { BpfProgram } from './bpf-program.js';
import { binding, bpfError } from './native.js';

export interface LoadOptions {
  /** Values for `const volatile` globals (.rodata) by name, set before load. Numbers are written with
   *  the variable's BTF size, little endian; a Buffer must match the size exactly. */
  constants?: Record<string, number | bigint | boolean | Buffer>;
  /** Directory (created if missing) where LIBBPF_PIN_BY_NAME maps are pinned and from which existing
   *  pins are reused. Without it libbpf pins such maps directly under /sys/fs/bpf. */
  pinRoot?: string;
  /** max_entries of named maps, set before load. */
  maxEntries?: Record<string, number>;
  /** Use these open maps (or pinned paths) for the named maps instead of creating new ones. */
  reuseMaps?: Record<string, BpfMap | string>;
  /** For map-in-map: use this map as the template of the named outer map's inner maps (their
   *  type, key, value and size must then match it instead of the one declared in C). */
  innerMaps?: Record<string, BpfMap>;
}

/** A loaded ELF object: its programs and maps, each with its own fd (libbpf's object is not kept). */
export class BpfObject {
  readonly programs: ReadonlyMap<string, BpfProgram>;
  /** By name, without libbpf's internal .rodata/.data/.bss maps. */
  readonly maps: ReadonlyMap<string, BpfMap>;

  private constructor(
    readonly path: string,
    programs: BpfProgram[],
    maps: BpfMap[],
  ) {
    this.programs = new Map(programs.map((p) => [p.name, p]));
    this.maps = new Map(maps.map((m) => [m.name, m]));
  }

  static load(path: string, options: LoadOptions = {}): BpfObject {
    if (options.pinRoot !== undefined) mkdirSync(options.pinRoot, { recursive: true });
    const reuseMaps: Record<string, number | string> = {};
    for (const [name, source] of Object.entries(options.reuseMaps ?? {})) {
      reuseMaps[name] = typeof source === 'string' ? source : source.fd;
    }
    const innerMaps: Record<string, number> = {};
    for (const [name, template] of Object.entries(options.innerMaps ?? {})) innerMaps[name] = template.fd;
    const loaded = binding.objectLoad(path, {
      ...(options.constants === undefined ? {} : { constants: options.constants }),
      ...(options.pinRoot === undefined ? {} : { pinRoot: options.pinRoot }),
      ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
      reuseMaps,
      innerMaps,
    });
    return new BpfObject(
      path,
      loaded.programs.map((d) => new BpfProgram(d)),
      loaded.maps.map((d) => new BpfMap(d)),
    );
  }

  program(name: string): BpfProgram {
    const prog = this.programs.get(name);
    if (prog === undefined) {
      throw bpfError('bpf_object__find_program_by_name', `${this.path}:${name}`, constants.errno.ENOENT,
        `programs in the object: ${[...this.programs.keys()].join(', ') || 'none'}`);
    }
    return prog;
  }

  map(name: string): BpfMap {
    const map = this.maps.get(name);
    if (map === undefined) {
      throw bpfError('bpf_object__find_map_by_name', `${this.path}:${name}`, constants.errno.ENOENT,
        `maps in the object: ${[...this.maps.keys()].join(', ') || 'none'}`);
    }
    return map;
  }

  /** Idempotent; closes every program and map fd. Pins and attachments stay. */
  close(): void {
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) m.close();
  }
}
