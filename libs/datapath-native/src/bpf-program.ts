import { constants } from 'node:os';
import { CgroupLink, TcLink, XdpLink, type CgroupAttachType, type NetnsOption, type TcDirection, type XdpMode } from './attachments.js';
import { binding, bpfError, fdFinalizer, type ProgramDescriptor } from './native.js';

export interface TestRunOptions {
  /** Packet bytes from the Ethernet header on. */
  data: Buffer;
  /** Context in (a __sk_buff for tc, an xdp_md for XDP); returned as `ctx` after the run. */
  ctx?: Buffer;
  /** Default 1. */
  repeat?: number;
  /** Default data.length + 256. */
  dataOutSize?: number;
}

export interface TestRunResult {
  retval: number;
  data: Buffer;
  ctx?: Buffer;
  /** Average per run, as the kernel measured it. */
  durationNs: number;
}

export interface TcAttachOptions extends NetnsOption {
  /** tc filter priority; 0 (default) lets the kernel choose. */
  priority?: number;
  /** tc filter handle; 0 (default) lets the kernel choose. With both set, an existing filter is replaced. */
  handle?: number;
}

export interface XdpAttachOptions extends NetnsOption {
  /** Default 'native' (driver mode). */
  mode?: XdpMode;
}

// Filled by every test run; read straight after, so one is enough (JS is single-threaded).
const runResults = new Uint32Array(4);

/** A loaded program, owned through its own file descriptor. */
export class BpfProgram {
  readonly name: string;
  /** libbpf's name of the program type, e.g. `sched_cls`, `xdp`, `cgroup_sock_addr`. */
  readonly type: string;
  readonly id: number;
  #fd: number;

  /** @internal Programs come from BpfObject.load. */
  constructor(d: ProgramDescriptor) {
    this.name = d.name;
    this.type = d.type;
    this.id = d.id;
    this.#fd = d.fd;
    fdFinalizer.register(this, d.fd, this);
  }

  get fd(): number {
    if (this.#fd < 0) throw bpfError('bpf_program', this.name, constants.errno.EBADF, 'the program was closed');
    return this.#fd;
  }

  testRun(opts: TestRunOptions): TestRunResult {
    const repeat = opts.repeat ?? 1;
    const dataOutSize = opts.dataOutSize ?? opts.data.length + 256;
    const dataOut = Buffer.allocUnsafe(dataOutSize);
    const ctxOut = opts.ctx === undefined ? null : Buffer.alloc(opts.ctx.length);
    binding.progTestRun(this.fd, opts.data, opts.ctx ?? null, repeat, dataOut, ctxOut, runResults, this.name);
    const [retval = 0, dataSize = 0, ctxSize = 0, durationNs = 0] = runResults;
    const result: TestRunResult = { retval, data: dataOut.subarray(0, dataSize), durationNs };
    if (ctxOut !== null) result.ctx = ctxOut.subarray(0, ctxSize);
    return result;
  }

  attachTc(iface: string | number, direction: TcDirection, opts: TcAttachOptions = {}): TcLink {
    const r = binding.tcAttach(this.fd, iface, direction, opts.priority ?? 0, opts.handle ?? 0, opts.netns ?? '', this.name);
    return new TcLink(r.ifindex, direction, r.priority, r.handle, opts.netns);
  }

  attachXdp(iface: string | number, opts: XdpAttachOptions = {}): XdpLink {
    const mode = opts.mode ?? 'native';
    const ifindex = binding.xdpAttach(this.fd, iface, mode, opts.netns ?? '', this.name);
    return new XdpLink(ifindex, mode, opts.netns);
  }

  attachCgroup(cgroupPath: string, attachType: CgroupAttachType): CgroupLink {
    binding.cgroupAttach(this.fd, cgroupPath, attachType, this.name);
    return new CgroupLink(this.fd, cgroupPath, attachType);
  }

  pin(path: string): void {
    binding.pinObject(this.fd, path, this.name);
  }

  /** Idempotent. Attachments and pins keep the program alive in the kernel. */
  close(): void {
    if (this.#fd < 0) return;
    fdFinalizer.unregister(this);
    binding.closeFd(this.#fd);
    this.#fd = -1;
  }
}
