// Events the datapath writes to the cilium_events ring buffer.
import { checkSize, defineLayout } from './struct-layout.js';

export const NOTIFY_CAPTURE_LEN = 128;
export const CILIUM_NOTIFY_DROP = 1;
export const CILIUM_NOTIFY_TRACE = 4;
export const CILIUM_NOTIFY_POLICY_VERDICT = 5;

export const NOTIFY_HDR = defineLayout('notify_hdr', 16, {
  type: [0, 1], subtype: [1, 1], source: [2, 2], hash: [4, 4], len_orig: [8, 4], len_cap: [12, 2], version: [14, 2],
});
export const TRACE_NOTIFY = defineLayout('trace_notify', 176, {
  hdr: [0, 16], src_label: [16, 4], dst_label: [20, 4], dst_id: [24, 2], reason: [26, 1], flags: [27, 1],
  ifindex: [28, 4], orig_ip: [32, 16], data: [48, NOTIFY_CAPTURE_LEN],
});
export const DROP_NOTIFY = defineLayout('drop_notify', 168, {
  hdr: [0, 16], src_label: [16, 4], dst_label: [20, 4], dst_id: [24, 4], ifindex: [28, 4], line: [32, 2],
  file: [34, 1], dir: [35, 1], flags: [36, 1], pad0: [37, 3], data: [40, NOTIFY_CAPTURE_LEN],
});
export const POLICY_VERDICT_NOTIFY = defineLayout('policy_verdict_notify', 176, {
  hdr: [0, 16], src_label: [16, 4], dst_label: [20, 4], remote_label: [24, 4], verdict: [28, 4], dst_port: [32, 2],
  proxy_port: [34, 2], proto: [36, 1], dir: [37, 1], match_type: [38, 1], flags: [39, 1], ifindex: [40, 4],
  pad0: [44, 4], data: [48, NOTIFY_CAPTURE_LEN],
});

/** Observation points (trace subtype), upstream's numbering. */
export const ObservationPoint = {
  toEndpoint: 0, toProxy: 1, toHost: 2, toStack: 3, toOverlay: 4, fromEndpoint: 5, fromProxy: 6, fromHost: 7,
  fromStack: 8, fromOverlay: 9, fromNetwork: 10, toNetwork: 11,
} as const;

export const TraceReason = { new: 0, established: 1, reply: 2, related: 3, reopened: 4, unknown: 5 } as const;

export const MatchType = { none: 0, l3Only: 1, l3L4: 2, l4Only: 3, all: 4, l3Proto: 5, protoOnly: 6 } as const;

/** Drop reasons the programs emit (upstream's numbers). */
export const DropReason = {
  invalidSourceIp: 132, policyDenied: 133, invalidPacket: 134, ctUnknownL4: 137, unsupportedL3: 139, writeError: 141, unknownL4: 142,
  noTunnelKey: 147, ctMapInsertionFailed: 155, invalidIpv6ExtensionHeader: 156, fragmentationNotSupported: 157,
  noTunnelEndpoint: 160, policyDenyRule: 181, invalidVni: 183, endpointNotReady: 203,
} as const;

export interface NotifyHeader {
  type: number;
  subtype: number;
  /** Endpoint id of the program that emitted the event (0 for node programs). */
  source: number;
  hash: number;
  origLength: number;
  /** The first bytes of the packet (at most 128). */
  data: Buffer;
}

export interface TraceEvent extends NotifyHeader {
  kind: 'trace';
  observationPoint: number;
  srcIdentity: number;
  dstIdentity: number;
  dstEndpointId: number;
  reason: number;
  ipv6: boolean;
  ifindex: number;
}

export interface DropEvent extends NotifyHeader {
  kind: 'drop';
  reason: number;
  srcIdentity: number;
  dstIdentity: number;
  dstEndpointId: number;
  ifindex: number;
  line: number;
  file: number;
  direction: 'ingress' | 'egress' | 'none';
  ipv6: boolean;
}

export interface PolicyVerdictEvent extends NotifyHeader {
  kind: 'policy-verdict';
  srcIdentity: number;
  dstIdentity: number;
  remoteIdentity: number;
  /** 0 allowed, > 0 redirected to that proxy port, < 0 the negated drop reason. */
  verdict: number;
  allowed: boolean;
  dstPort: number;
  proxyPort: number;
  protocol: number;
  direction: 'ingress' | 'egress' | 'none';
  matchType: number;
  ipv6: boolean;
  ifindex: number;
}

export interface UnknownEvent extends NotifyHeader {
  kind: 'unknown';
}

export type DatapathEvent = TraceEvent | DropEvent | PolicyVerdictEvent | UnknownEvent;

function header(buf: Buffer, dataOffset: number): NotifyHeader {
  const F = NOTIFY_HDR.fields;
  const cap = Math.min(buf.readUInt16LE(F.len_cap.offset), NOTIFY_CAPTURE_LEN, Math.max(0, buf.length - dataOffset));
  return {
    type: buf.readUInt8(F.type.offset),
    subtype: buf.readUInt8(F.subtype.offset),
    source: buf.readUInt16LE(F.source.offset),
    hash: buf.readUInt32LE(F.hash.offset),
    origLength: buf.readUInt32LE(F.len_orig.offset),
    data: Buffer.from(buf.subarray(dataOffset, dataOffset + cap)),
  };
}

function direction(dir: number): 'ingress' | 'egress' | 'none' {
  return dir === 1 ? 'ingress' : dir === 2 ? 'egress' : 'none';
}

export function decodeEvent(buf: Buffer): DatapathEvent {
  checkSize(NOTIFY_HDR, buf, 'decodeEvent');
  const type = buf.readUInt8(NOTIFY_HDR.fields.type.offset);
  if (type === CILIUM_NOTIFY_TRACE) {
    checkSize(TRACE_NOTIFY, buf, 'decodeEvent(trace)');
    const F = TRACE_NOTIFY.fields;
    const h = header(buf, F.data.offset);
    return {
      ...h, kind: 'trace', observationPoint: h.subtype,
      srcIdentity: buf.readUInt32LE(F.src_label.offset), dstIdentity: buf.readUInt32LE(F.dst_label.offset),
      dstEndpointId: buf.readUInt16LE(F.dst_id.offset), reason: buf.readUInt8(F.reason.offset),
      ipv6: (buf.readUInt8(F.flags.offset) & 1) !== 0, ifindex: buf.readUInt32LE(F.ifindex.offset),
    };
  }
  if (type === CILIUM_NOTIFY_DROP) {
    checkSize(DROP_NOTIFY, buf, 'decodeEvent(drop)');
    const F = DROP_NOTIFY.fields;
    const h = header(buf, F.data.offset);
    return {
      ...h, kind: 'drop', reason: h.subtype,
      srcIdentity: buf.readUInt32LE(F.src_label.offset), dstIdentity: buf.readUInt32LE(F.dst_label.offset),
      dstEndpointId: buf.readUInt32LE(F.dst_id.offset), ifindex: buf.readUInt32LE(F.ifindex.offset),
      line: buf.readUInt16LE(F.line.offset), file: buf.readUInt8(F.file.offset),
      direction: direction(buf.readUInt8(F.dir.offset)), ipv6: (buf.readUInt8(F.flags.offset) & 1) !== 0,
    };
  }
  if (type === CILIUM_NOTIFY_POLICY_VERDICT) {
    checkSize(POLICY_VERDICT_NOTIFY, buf, 'decodeEvent(policy-verdict)');
    const F = POLICY_VERDICT_NOTIFY.fields;
    const h = header(buf, F.data.offset);
    const verdict = buf.readInt32LE(F.verdict.offset);
    return {
      ...h, kind: 'policy-verdict',
      srcIdentity: buf.readUInt32LE(F.src_label.offset), dstIdentity: buf.readUInt32LE(F.dst_label.offset),
      remoteIdentity: buf.readUInt32LE(F.remote_label.offset), verdict, allowed: verdict >= 0,
      dstPort: buf.readUInt16BE(F.dst_port.offset), proxyPort: buf.readUInt16LE(F.proxy_port.offset),
      protocol: buf.readUInt8(F.proto.offset), direction: direction(buf.readUInt8(F.dir.offset)),
      matchType: buf.readUInt8(F.match_type.offset), ipv6: (buf.readUInt8(F.flags.offset) & 1) !== 0,
      ifindex: buf.readUInt32LE(F.ifindex.offset),
    };
  }
  return { ...header(buf, buf.length), kind: 'unknown' };
}
