import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import {
  AuthType,
  DebugCapturePoint,
  EmitterSchema,
  FlowType,
  SocketTranslationPoint,
  TraceObservationPoint,
  TraceReason,
  TrafficDirection,
  Verdict,
  type DropReason,
  type Emitter,
  type Endpoint,
  type Flow,
  type Policy,
} from '@cilium-ts/proto';
import { MessageType } from '../monitor/monitor-api.js';
import { decodePacket } from './packet-decoder.js';

/**
 * A datapath notification already decoded from its C layout (the codecs live with the BPF
 * programs). Numbers are the datapath's own: drop codes, observation points, trace reasons.
 */
export interface DatapathEvent {
  readonly type: 'drop' | 'trace' | 'policy-verdict';
  /** Wall-clock time of the event, milliseconds since the epoch (fractions allowed). */
  readonly timestamp: number;
  /** drop: the drop code; trace: the observation point (0 = to-endpoint); policy-verdict: 0. */
  readonly subType: number;
  /** ID of the endpoint that emitted the event (0 when not emitted by an endpoint program). */
  readonly sourceEndpointId: number;
  /** Security identities the datapath saw (0 = not known to the datapath). */
  readonly sourceIdentity: number;
  readonly destinationIdentity: number;
  /** Interface the packet was observed on (trace), 0 if none. */
  readonly ifindex: number;
  /** trace: the conntrack result (0 new, 1 established, 2 reply, 3 related, 5 unknown; 0x80 = encrypted). */
  readonly traceReason?: number;
  /** trace to-proxy: the proxy port. */
  readonly proxyPort?: number;
  /** trace: original source address before SNAT, if the datapath reported one. */
  readonly originalSourceIp?: string;
  /** policy-verdict fields. */
  readonly policyVerdict?: {
    /** <0: dropped (minus the drop code), 0: allowed, >0: redirected to this proxy port. */
    readonly verdict: number;
    readonly direction: 'ingress' | 'egress';
    /** Policy match type (0 none, 1 L3-Only, 2 L3-L4, 3 L4-Only, 4 all, ...). */
    readonly matchType: number;
    readonly audited: boolean;
    /** Identity of the remote peer; the local end is the emitting endpoint. */
    readonly remoteIdentity: number;
  };
  /** The captured packet, from its Ethernet header (or from the IP header when `l3Device`). */
  readonly packet: Uint8Array;
  /** Set when the packet was captured on an L3 device (no Ethernet header). */
  readonly l3Device?: 'ipv4' | 'ipv6';
}

export interface EndpointInfo {
  readonly id: number;
  readonly identity: number;
  readonly namespace: string;
  readonly podName: string;
  /** Source-prefixed labels, e.g. `k8s:app=web`. */
  readonly labels: readonly string[];
  readonly clusterName?: string;
  readonly workloads?: readonly { readonly name: string; readonly kind: string }[];
}

/** What the agent knows about addresses and identities; only the first two are required. */
export interface FlowLookups {
  /** A local endpoint owning this IP. */
  lookupEndpointByIp(ip: string): EndpointInfo | undefined;
  /** Labels of a security identity (reserved, local or cluster-wide). */
  lookupIdentity(identity: number): { readonly labels: readonly string[] } | undefined;
  /** ipcache: identity and pod of a remote IP. */
  lookupIpcache?(ip: string): { readonly identity: number; readonly namespace?: string; readonly podName?: string } | undefined;
  /** DNS names the endpoint learnt for this IP (FQDN cache). */
  lookupNames?(endpointId: number, ip: string): readonly string[];
  /** The service a frontend address:port belongs to. */
  lookupService?(ip: string, port: number): { readonly name: string; readonly namespace: string } | undefined;
  lookupInterfaceName?(ifindex: number): string | undefined;
  /**
   * The policies behind a policy verdict or a policy drop (for `--print-policy-names` and the
   * UI); called only for those events.
   */
  lookupPolicies?(query: PolicyQuery): PolicyAttribution | undefined;
}

export interface PolicyQuery {
  readonly direction: 'ingress' | 'egress';
  /** Endpoint whose policy decided (the emitting endpoint). */
  readonly endpointId: number;
  readonly remoteIdentity: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP' | 'ICMPv4' | 'ICMPv6' | undefined;
  readonly port: number;
  readonly allowed: boolean;
}

export interface PolicyRef {
  readonly name: string;
  readonly namespace: string;
  readonly kind: string;
  readonly labels?: readonly string[];
  readonly revision?: bigint;
}

export interface PolicyAttribution {
  readonly allowedBy: readonly PolicyRef[];
  readonly deniedBy: readonly PolicyRef[];
}

export interface FlowBuilderOptions {
  readonly nodeName: string;
  readonly nodeLabels?: readonly string[];
  /** Version reported in the flow's emitter. */
  readonly version?: string;
  readonly clusterName?: string;
}

const TRACE_REASON_CT_REPLY = 2;
const TRACE_REASON_UNKNOWN = 5;
const TRACE_REASON_ENCRYPT_MASK = 0x80;

// Datapath trace reasons to flow.TraceReason: the datapath starts at 0 = new and uses 5 for unknown.
const traceReasons: readonly TraceReason[] = [
  TraceReason.NEW,
  TraceReason.ESTABLISHED,
  TraceReason.REPLY,
  TraceReason.RELATED,
  TraceReason.REOPENED,
  TraceReason.TRACE_REASON_UNKNOWN,
  TraceReason.SRV6_ENCAP,
  TraceReason.SRV6_DECAP,
  TraceReason.ENCRYPT_OVERLAY,
];

const messageTypes = { drop: MessageType.drop, trace: MessageType.trace, 'policy-verdict': MessageType.policyVerdict } as const;

type EndpointInit = {
  ID: number;
  identity: number;
  namespace: string;
  podName: string;
  labels: readonly string[];
  clusterName: string;
  workloads: readonly { readonly name: string; readonly kind: string }[] | undefined;
};

// Shared, frozen empty lists: a flow has a dozen repeated fields, mostly empty, and every object a
// flow holds costs garbage-collection time while the ring keeps it. Flows are immutable once built.
const noLabels: readonly string[] = Object.freeze([]);
const none = <T>(): T[] => noLabels as unknown as T[];

// Label arrays are shared between flows (see FlowBuilder); flows are treated as immutable.
function endpointMessage(e: EndpointInit): Endpoint {
  return {
    $typeName: 'flow.Endpoint',
    ID: e.ID,
    identity: e.identity,
    clusterName: e.clusterName,
    namespace: e.namespace,
    labels: e.labels as string[],
    podName: e.podName,
    workloads: e.workloads && e.workloads.length > 0 ? e.workloads.map((w) => ({ $typeName: 'flow.Workload', name: w.name, kind: w.kind })) : none(),
  };
}

// CIDR identities (local scope, bit 24) carry one label per prefix length; keep only the longest.
const LOCAL_IDENTITY_FLAG = 1 << 24;

const policyMessages = (refs: readonly PolicyRef[]): Policy[] =>
  refs.map((p) => ({ $typeName: 'flow.Policy', name: p.name, namespace: p.namespace, labels: p.labels ? [...p.labels] : [], revision: p.revision ?? 0n, kind: p.kind }));

const copyOrNone = (names: readonly string[]): string[] => (names.length === 0 ? none<string>() : [...names]);

function sortAndFilterLabels(labels: readonly string[], identity: number): string[] {
  let out = [...labels];
  if ((identity & LOCAL_IDENTITY_FLAG) !== 0) {
    const cidrs = out.filter((l) => l.startsWith('cidr:'));
    if (cidrs.length > 1) {
      const prefixLen = (l: string) => Number(l.slice(l.lastIndexOf('/') + 1));
      const longest = cidrs.reduce((a, b) => (prefixLen(b) > prefixLen(a) ? b : a));
      out = [...out.filter((l) => !l.startsWith('cidr:')), longest];
    }
  }
  return out.sort();
}

/**
 * Turns decoded datapath events into flow.Flow the way upstream's L3/L4 parser does: packet
 * headers, endpoints (local endpoints first, then ipcache and identity labels), verdict, drop
 * reason, traffic direction, is_reply, observation point, event type and the Summary text.
 */
export class FlowBuilder {
  // Identity labels never change, so they are resolved, sorted and shared once per identity; flows
  // sharing the array also share parsed-label caches downstream (filters).
  private readonly identityLabels = new Map<number, readonly string[]>();
  private readonly endpointLabels = new WeakMap<readonly string[], readonly string[]>();
  private readonly emitter: Emitter;
  private readonly nodeLabels: string[];

  constructor(
    private readonly lookups: FlowLookups,
    private readonly options: FlowBuilderOptions,
  ) {
    this.emitter = create(EmitterSchema, { name: 'Hubble', version: options.version ?? '' });
    this.nodeLabels = options.nodeLabels?.length ? Object.freeze([...options.nodeLabels]) as string[] : none<string>();
  }

  // Events arrive in bursts within the same second; reuse its BigInt rather than allocate one per flow.
  private lastSeconds = -1;
  private lastSecondsBig = 0n;
  private secondsOf(seconds: number): bigint {
    if (seconds !== this.lastSeconds) {
      this.lastSeconds = seconds;
      this.lastSecondsBig = BigInt(seconds);
    }
    return this.lastSecondsBig;
  }

  private labelsOfIdentity(identity: number): readonly string[] {
    let labels = this.identityLabels.get(identity);
    if (!labels) {
      const found = this.lookups.lookupIdentity(identity);
      labels = found ? sortAndFilterLabels(found.labels, identity) : noLabels;
      if (found) this.identityLabels.set(identity, labels);
    }
    return labels;
  }

  private resolveEndpoint(ip: string | undefined, datapathIdentity: number): EndpointInit {
    const ep = ip !== undefined ? this.lookups.lookupEndpointByIp(ip) : undefined;
    if (ep) {
      // The datapath's identity is what the policy decision used; prefer it when it has one.
      const identity = datapathIdentity !== 0 ? datapathIdentity : ep.identity;
      let labels = this.endpointLabels.get(ep.labels);
      if (!labels) {
        labels = sortAndFilterLabels(ep.labels, identity);
        this.endpointLabels.set(ep.labels, labels);
      }
      return {
        ID: ep.id,
        identity,
        namespace: ep.namespace,
        podName: ep.podName,
        labels,
        clusterName: ep.clusterName ?? this.options.clusterName ?? '',
        workloads: ep.workloads,
      };
    }
    let identity = datapathIdentity;
    let namespace = '';
    let podName = '';
    if (ip !== undefined && this.lookups.lookupIpcache) {
      const entry = this.lookups.lookupIpcache(ip);
      if (entry) {
        if (datapathIdentity === 0) identity = entry.identity;
        namespace = entry.namespace ?? '';
        podName = entry.podName ?? '';
      }
    }
    return { ID: 0, identity, namespace, podName, labels: this.labelsOfIdentity(identity), clusterName: '', workloads: undefined };
  }

  build(event: DatapathEvent): Flow {
    const decoded = decodePacket(event.packet, event.l3Device ?? 'ethernet');
    const isTrace = event.type === 'trace';
    const isDrop = event.type === 'drop';
    const pv = event.type === 'policy-verdict' ? event.policyVerdict : undefined;
    const reason = event.traceReason ?? TRACE_REASON_UNKNOWN;
    const reasonKnown = isTrace && (reason & ~TRACE_REASON_ENCRYPT_MASK) !== TRACE_REASON_UNKNOWN;
    const replyByCt = (reason & ~TRACE_REASON_ENCRYPT_MASK) === TRACE_REASON_CT_REPLY;

    const ip = decoded.ip;
    if (ip && isTrace) {
      if (event.originalSourceIp) ip.source = event.originalSourceIp;
      ip.encrypted = (reason & TRACE_REASON_ENCRYPT_MASK) !== 0;
    }

    let srcIdentity = event.sourceIdentity;
    let dstIdentity = event.destinationIdentity;
    if (pv) {
      srcIdentity = pv.direction === 'ingress' ? pv.remoteIdentity : 0;
      dstIdentity = pv.direction === 'ingress' ? 0 : pv.remoteIdentity;
    }
    const source = this.resolveEndpoint(ip?.source, srcIdentity);
    const destination = this.resolveEndpoint(ip?.destination, dstIdentity);

    let verdict: Verdict;
    let dropReason = 0;
    if (isDrop) {
      verdict = Verdict.DROPPED;
      dropReason = event.subType;
    } else if (isTrace) verdict = Verdict.FORWARDED;
    else if (pv && pv.verdict < 0) {
      verdict = Verdict.DROPPED;
      dropReason = -pv.verdict;
    } else if (pv && pv.verdict > 0) verdict = Verdict.REDIRECTED;
    else if (pv?.audited) verdict = Verdict.AUDIT;
    else verdict = Verdict.FORWARDED;

    let isReply: boolean | undefined;
    if (reasonKnown) isReply = replyByCt;
    else if (pv && pv.verdict >= 0) isReply = false; // verdicts are emitted for a connection's first packet

    let direction = TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN;
    if (isDrop && event.sourceEndpointId !== 0) {
      // A drop at the endpoint that sent the packet is taken as egress.
      direction = event.sourceEndpointId === source.ID ? TrafficDirection.EGRESS : TrafficDirection.INGRESS;
    } else if (isTrace && event.sourceEndpointId !== 0 && reasonKnown) {
      const fromSourceEndpoint = event.sourceEndpointId === source.ID;
      direction = fromSourceEndpoint !== replyByCt ? TrafficDirection.EGRESS : TrafficDirection.INGRESS;
    } else if (pv) {
      direction = pv.direction === 'ingress' ? TrafficDirection.INGRESS : TrafficDirection.EGRESS;
    }

    const lookups = this.lookups;
    const sourceNames = ip && lookups.lookupNames ? copyOrNone(lookups.lookupNames(destination.ID, ip.source)) : none<string>();
    const destinationNames = ip && lookups.lookupNames ? copyOrNone(lookups.lookupNames(source.ID, ip.destination)) : none<string>();
    const sourceService = ip && lookups.lookupService ? lookups.lookupService(ip.source, decoded.sourcePort) : undefined;
    const destinationService = ip && lookups.lookupService ? lookups.lookupService(ip.destination, decoded.destinationPort) : undefined;

    let policies: PolicyAttribution | undefined;
    const policyDrop = isDrop && (dropReason === 133 || dropReason === 181);
    if (lookups.lookupPolicies && (pv || policyDrop) && direction !== TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN) {
      const ingress = direction === TrafficDirection.INGRESS;
      policies = lookups.lookupPolicies({
        direction: ingress ? 'ingress' : 'egress',
        endpointId: event.sourceEndpointId,
        remoteIdentity: ingress ? source.identity : destination.identity,
        protocol: decoded.l4?.protocol.case as PolicyQuery['protocol'],
        port: decoded.destinationPort,
        allowed: verdict !== Verdict.DROPPED,
      });
    }
    const egress = direction === TrafficDirection.EGRESS;
    const allowedBy = policies && policies.allowedBy.length > 0 ? policyMessages(policies.allowedBy) : none<Policy>();
    const deniedBy = policies && policies.deniedBy.length > 0 ? policyMessages(policies.deniedBy) : none<Policy>();

    const ifindex = isTrace ? event.ifindex : 0;
    const seconds = Math.floor(event.timestamp / 1000);
    // A literal with every field of flow.Flow rather than create(): create() walks the descriptor
    // and costs more than the rest of the parser together. flow-builder.test.ts checks that this
    // stays a valid, complete message.
    const flow: Flow = {
      $typeName: 'flow.Flow',
      time: { $typeName: 'google.protobuf.Timestamp', seconds: this.secondsOf(seconds), nanos: Math.min(999_999_999, Math.round((event.timestamp - seconds * 1000) * 1e6)) },
      uuid: randomUUID(),
      emitter: this.emitter,
      verdict,
      dropReason,
      authType: AuthType.DISABLED,
      ethernet: decoded.ethernet,
      IP: ip,
      l4: decoded.l4,
      tunnel: undefined,
      source: endpointMessage(source),
      destination: endpointMessage(destination),
      Type: FlowType.L3_L4,
      nodeName: this.options.nodeName,
      nodeLabels: this.nodeLabels,
      sourceNames,
      destinationNames,
      l7: undefined,
      reply: isReply ?? false,
      eventType: { $typeName: 'flow.CiliumEventType', type: messageTypes[event.type], subType: event.subType },
      sourceService: sourceService ? { $typeName: 'flow.Service', name: sourceService.name, namespace: sourceService.namespace } : undefined,
      destinationService: destinationService ? { $typeName: 'flow.Service', name: destinationService.name, namespace: destinationService.namespace } : undefined,
      trafficDirection: direction,
      policyMatchType: pv ? pv.matchType : 0,
      traceObservationPoint: isTrace ? (event.subType === 0 ? TraceObservationPoint.TO_ENDPOINT : (event.subType as TraceObservationPoint)) : TraceObservationPoint.UNKNOWN_POINT,
      traceReason: isTrace ? (traceReasons[reason & ~TRACE_REASON_ENCRYPT_MASK] ?? TraceReason.TRACE_REASON_UNKNOWN) : TraceReason.TRACE_REASON_UNKNOWN,
      file: undefined,
      dropReasonDesc: dropReason as DropReason,
      isReply,
      debugCapturePoint: DebugCapturePoint.DBG_CAPTURE_POINT_UNKNOWN,
      interface: ifindex !== 0 ? { $typeName: 'flow.NetworkInterface', index: ifindex, name: lookups.lookupInterfaceName?.(ifindex) ?? '' } : undefined,
      proxyPort: isTrace && event.subType === 1 ? (event.proxyPort ?? 0) : 0,
      traceContext: undefined,
      sockXlatePoint: SocketTranslationPoint.SOCK_XLATE_POINT_UNKNOWN,
      socketCookie: 0n,
      cgroupId: 0n,
      Summary: decoded.summary,
      extensions: undefined,
      egressAllowedBy: egress ? allowedBy : none(),
      ingressAllowedBy: egress ? none() : allowedBy,
      egressDeniedBy: egress ? deniedBy : none(),
      ingressDeniedBy: egress ? none() : deniedBy,
      policyLog: none(),
      aggregate: undefined,
      ipTraceId: undefined,
    };
    return flow;
  }
}
