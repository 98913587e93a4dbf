// The raw addon and its typed surface. Everything here is internal: the public classes wrap it.
import { createRequire } from 'node:module';
import { BpfError } from './bpf-error.js';

export interface MapDescriptor {
  name: string;
  type: string;
  fd: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

export interface ProgramDescriptor {
  name: string;
  type: string;
  fd: number;
  id: number;
}

export interface NativeLoadOptions {
  constants?: Record<string, number | bigint | boolean | Buffer>;
  pinRoot?: string;
  maxEntries?: Record<string, number>;
  reuseMaps?: Record<string, number | string>;
  innerMaps?: Record<string, number>;
}

export interface NativeTcAttachment {
  ifindex: number;
  direction: 'ingress' | 'egress';
  priority: number;
  handle: number;
  progId: number;
  progName: string;
}

export interface NativeRingBufferStats {
  events: number;
  batches: number;
  droppedInUserspace: number;
  pending: number;
  running: boolean;
}

export interface NativeRingBufferReader {
  stats(): NativeRingBufferStats;
  close(): Promise<void>;
}

type ErrorFactory = (
  operation: string,
  subject: string,
  errno: number,
  code: string,
  description: string,
  detail: string,
  verifierLog: string | undefined,
) => BpfError;

export interface NativeBinding {
  setErrorFactory(factory: ErrorFactory): void;
  describeErrno(errno: number): [string, string];
  closeFd(fd: number): void;
  dupFd(fd: number, subject: string): number;
  libbpfVersion(): string;
  numPossibleCpus(): number;
  pinObject(fd: number, path: string, subject: string): void;
  unpinObject(path: string): void;

  objectLoad(path: string, opts: NativeLoadOptions): { programs: ProgramDescriptor[]; maps: MapDescriptor[] };

  mapCreate(type: string, name: string, keySize: number, valueSize: number, maxEntries: number, flags: number, innerFd: number): MapDescriptor;
  mapOpenPinned(path: string): MapDescriptor;
  mapInfo(fd: number, name: string): MapDescriptor;
  mapLookupInto(fd: number, key: Buffer, keySize: number, out: Buffer, subject: string): boolean;
  mapUpdate(fd: number, key: Buffer, keySize: number, value: Buffer, valueBytes: number, flags: number, subject: string): void;
  mapDelete(fd: number, key: Buffer, keySize: number, subject: string): boolean;
  mapNextKeyInto(fd: number, key: Buffer | null, out: Buffer, subject: string): boolean;
  mapLookupBatch(fd: number, keySize: number, valueBytes: number, batchSize: number, subject: string): { keys: Buffer; values: Buffer; count: number } | null;
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer, count: number, keySize: number, valueBytes: number, flags: number, subject: string): void;
  mapDeleteBatch(fd: number, keys: Buffer, count: number, keySize: number, subject: string): number;

  /** Fills dataOut/ctxOut and results = [retval, dataSizeOut, ctxSizeOut, durationNs]. */
  progTestRun(fd: number, data: Buffer, ctx: Buffer | null, repeat: number, dataOut: Buffer, ctxOut: Buffer | null, results: Uint32Array, subject: string): void;
  progInfo(fd: number, subject: string): { id: number; name: string };

  tcAttach(progFd: number, iface: string | number, direction: string, priority: number, handle: number, netns: string, subject: string): { ifindex: number; priority: number; handle: number };
  tcDetach(ifindex: number, direction: string, priority: number, handle: number, netns: string): boolean;
  tcList(iface: string | number, netns: string): NativeTcAttachment[];

  xdpAttach(progFd: number, iface: string | number, mode: string, netns: string, subject: string): number;
  xdpDetach(ifindex: number, mode: string, netns: string): boolean;
  xdpQuery(iface: string | number, netns: string): { progId: number; mode: string } | undefined;

  cgroupAttach(progFd: number, path: string, attachType: string, subject: string): void;
  cgroupDetach(progFd: number, path: string, attachType: string): boolean;
  cgroupQuery(path: string, attachType: string): number[];

  ifindexOf(iface: string | number, netns: string): number;

  /** Benchmark baseline: the same syscalls from a C loop. */
  benchMapSyscalls(fd: number, count: number, keySize: number, valueBytes: number): { updateNs: number; lookupNs: number };

  NativeRingBufferReader: new (
    mapFd: number,
    /** Each event as a u32 length (host order) and its bytes, back to back. */
    onBatch: (packed: Buffer) => void,
    maxBatch: number,
    maxPending: number,
    pollTimeoutMs: number,
    subject: string,
  ) => NativeRingBufferReader;
}

// The same relative path works from src/ (tests) and dist/ (run time): both sit beside build/.
const require = createRequire(import.meta.url);
export const binding = require('../build/Release/datapath_native.node') as NativeBinding;

binding.setErrorFactory(
  (operation, subject, errno, code, description, detail, verifierLog) =>
    new BpfError({ operation, subject, errno, code, description, detail, ...(verifierLog === undefined ? {} : { verifierLog }) }),
);

/** A BpfError raised by the TypeScript layer itself, worded like the native ones. */
export function bpfError(operation: string, subject: string, errno: number, detail?: string): BpfError {
  const [code, description] = binding.describeErrno(errno);
  return new BpfError({ operation, subject, errno, code, description, ...(detail === undefined ? {} : { detail }) });
}

/** Closes fds whose owner was garbage-collected without close(): a safety net, not the plan. */
export const fdFinalizer = new FinalizationRegistry<number>((fd) => binding.closeFd(fd));
