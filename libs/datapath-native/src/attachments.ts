import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { binding, bpfError, fdFinalizer } from './native.js';

export type TcDirection = 'ingress' | 'egress';
export type XdpMode = 'native' | 'generic';
export type CgroupAttachType =
  | 'connect4' | 'connect6' | 'sendmsg4' | 'sendmsg6' | 'recvmsg4' | 'recvmsg6'
  | 'getpeername4' | 'getpeername6' | 'post_bind4' | 'post_bind6' | 'sock_create';

export interface NetnsOption {
  /** Path of a network namespace file (/var/run/netns/<name>, /proc/<pid>/ns/net); default: the caller's. */
  netns?: string;
}

export interface TcAttachmentInfo {
  ifindex: number;
  direction: TcDirection;
  priority: number;
  handle: number;
  progId: number;
  /** The kernel's program name (first 15 characters). */
  progName: string;
}

/** A program on a clsact hook (direct action). detach() is idempotent. */
export class TcLink {
  #attached = true;

  /** @internal */
  constructor(
    readonly ifindex: number,
    readonly direction: TcDirection,
    readonly priority: number,
    readonly handle: number,
    readonly netns: string | undefined,
  ) {}

  /** Also a no-op when the interface or its namespace is gone (and the attachment with it). */
  detach(): void {
    if (!this.#attached) return;
    if (namespaceGone(this.netns)) {
      this.#attached = false;
      return;
    }
    binding.tcDetach(this.ifindex, this.direction, this.priority, this.handle, this.netns ?? '');
    this.#attached = false;
  }
}

/** An XDP program on a device. detach() is idempotent. */
export class XdpLink {
  #attached = true;

  /** @internal */
  constructor(
    readonly ifindex: number,
    readonly mode: XdpMode,
    readonly netns: string | undefined,
  ) {}

  /** Also a no-op when the interface or its namespace is gone (and the attachment with it). */
  detach(): void {
    if (!this.#attached) return;
    if (namespaceGone(this.netns)) {
      this.#attached = false;
      return;
    }
    binding.xdpDetach(this.ifindex, this.mode, this.netns ?? '');
    this.#attached = false;
  }
}

/** A program attached to a cgroup (BPF_F_ALLOW_MULTI). It holds its own reference to the program,
 *  so it can be detached after the program object was closed. detach() is idempotent. */
export class CgroupLink {
  #progFd: number;

  /** @internal */
  constructor(
    progFd: number,
    readonly cgroupPath: string,
    readonly attachType: CgroupAttachType,
  ) {
    this.#progFd = binding.dupFd(progFd, cgroupPath);
    fdFinalizer.register(this, this.#progFd, this);
  }

  detach(): void {
    if (this.#progFd < 0) return;
    try {
      binding.cgroupDetach(this.#progFd, this.cgroupPath, this.attachType);
    } finally {
      fdFinalizer.unregister(this);
      binding.closeFd(this.#progFd);
      this.#progFd = -1;
    }
  }
}

function namespaceGone(netns: string | undefined): boolean {
  return netns !== undefined && !existsSync(netns);
}

export function listTcAttachments(iface: string | number, opts: NetnsOption = {}): TcAttachmentInfo[] {
  return binding.tcList(iface, opts.netns ?? '');
}

export function listXdpAttachment(iface: string | number, opts: NetnsOption = {}): { progId: number; mode: string } | undefined {
  return binding.xdpQuery(iface, opts.netns ?? '');
}

/** Ids of the programs attached to a cgroup for one attach type. */
export function listCgroupAttachments(cgroupPath: string, attachType: CgroupAttachType | (string & {})): number[] {
  return binding.cgroupQuery(cgroupPath, attachType);
}

/** The interface's index, resolved inside `opts.netns`; throws BpfError ENODEV naming the interface. */
export function ifindexOf(iface: string, opts: NetnsOption = {}): number {
  if (iface === '') throw bpfError('if_nametoindex', '""', constants.errno.ENODEV);
  return binding.ifindexOf(iface, opts.netns ?? '');
}
