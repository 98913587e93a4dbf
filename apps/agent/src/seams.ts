// The points where the agent's libraries plug in. Each interface is what the agent needs, no more; the
// library (libs/identity, libs/policy, libs/datapath-native + libs/bpf-programs) implements it, or an
// adapter in the agent wraps the library's own API.
import type { BPFMap, BPFMapProperties, PolicyExplainRequest, PolicyExplainResponse, PolicyValidationResult } from '@cilium-ts/agent-api';
import type { DatapathEvent } from '@cilium-ts/bpf-programs';
import type { ReconcilerOperations } from './reconciler.js';

/** What the regeneration pipeline knows about an endpoint when it calls a seam. */
export interface EndpointView {
  readonly id: number;
  readonly labels: readonly string[];
  readonly namespace?: string;
  readonly podName?: string;
  readonly identity?: number;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly interfaceName?: string;
  readonly interfaceIndex?: number;
  readonly netnsPath?: string;
  readonly mac?: string;
  readonly hostMac?: string;
}

export interface AllocatedIdentity {
  id: number;
  labels: string[];
}

/** libs/identity: security-relevant labels to a cluster-wide numeric identity (reference counted per node). */
export interface IdentityAllocator {
  allocate(labels: readonly string[]): Promise<AllocatedIdentity>;
  /** Drops this node's reference; the identity may be garbage-collected when nobody holds it. */
  release(id: number): Promise<void>;
  get(id: number): Promise<AllocatedIdentity | undefined>;
  /** Every identity known to this node (reserved, cluster-wide and local). */
  list(): Promise<AllocatedIdentity[]>;
}

/** One entry of an endpoint's policy map (upstream's policy key + verdict). Port 0 means any port. */
export interface PolicyMapEntry {
  direction: 'ingress' | 'egress';
  /** Peer identity; 0 means any. */
  identity: number;
  /** IP protocol number (6 TCP, 17 UDP, 132 SCTP); 0 means any. */
  protocol: number;
  port: number;
  /** Port prefix length for ranges (16 = exact port). */
  portPrefixLength?: number;
  verdict: 'allow' | 'deny';
  proxyPort?: number;
  /** Labels of the rules this entry derives from (for explain and Hubble). */
  derivedFrom?: string[][];
}

export interface EndpointPolicyResult {
  /** Policy repository revision the result was computed at. */
  revision: number;
  ingressEnforced: boolean;
  egressEnforced: boolean;
  entries: PolicyMapEntry[];
}

export interface PolicyComputeOptions {
  /** The agent's policy enforcement mode (upstream semantics: default = enforce in a direction once a rule
   *  selects the endpoint in it; always = default deny everywhere; never = allow everything). */
  enforcement: 'default' | 'always' | 'never';
}

/** libs/policy: the map state an endpoint must enforce, given its identity and the repository. */
export interface PolicyResolver {
  computeFor(endpoint: EndpointView, options: PolicyComputeOptions): Promise<EndpointPolicyResult>;
  /** Endpoints whose map state moved without a policy revision (identities appeared or went on other nodes);
   *  the agent regenerates them. */
  onInvalidate?(listener: (endpointIds: readonly number[], reason: string) => void): () => void;
  /** The endpoint is gone: drop what was computed for it. */
  forget?(endpointId: number): void;
}

/** libs/datapath-native + libs/bpf-programs: the endpoint's programs and its policy map. */
export interface DatapathLoader {
  /** Loads and attaches the endpoint's programs (idempotent: called again after a restart). */
  attach(endpoint: EndpointView): Promise<void>;
  /** Makes the endpoint's policy map hold exactly `entries`. */
  writePolicy(endpoint: EndpointView, entries: readonly PolicyMapEntry[]): Promise<void>;
  /** Detaches the programs and removes the endpoint's maps. */
  detach(endpoint: EndpointView): Promise<void>;
}

/** An IP-to-identity mapping (the ipcache), published to the kvstore and written into the ipcache map. */
export interface IpcacheEntry {
  /** 10.0.1.5/32 */
  prefix: string;
  identity: number;
  /** The node that hosts the address (tunnel endpoint in VXLAN mode). */
  hostIP?: string;
  /** Who put it there: 'endpoint', 'kvstore', 'node'... */
  source: string;
  namespace?: string;
  podName?: string;
}

/** libs/identity's ipcache sync (kvstore) and the datapath's ipcache map, reconciled from the ipcache table. */
export type IpcachePublisher = ReconcilerOperations<IpcacheEntry>;

export class PolicyValidationError extends Error {
  override name = 'PolicyValidationError';
  constructor(readonly errors: string[]) {
    super(errors.join('; '));
  }
}

export class FeatureUnavailableError extends Error {
  override name = 'FeatureUnavailableError';
}

/** libs/policy: the node's policy repository. */
export interface PolicyRepository {
  revision(): number;
  /** The rules in force, as JSON-able documents. */
  rules(): unknown[];
  /** Adds or replaces documents (CNP, CCNP, NetworkPolicy); rejects all of them with PolicyValidationError if any is invalid. */
  import(documents: readonly unknown[]): Promise<{ revision: number }>;
  /** Deletes the rules carrying all of `labels` (all rules if empty). */
  delete(labels: readonly string[]): Promise<{ revision: number; deleted: number }>;
  validate(documents: readonly unknown[]): PolicyValidationResult;
  /** Throws FeatureUnavailableError if this build cannot explain. */
  explain(request: PolicyExplainRequest, resolve: (peer: PolicyExplainRequest['from']) => Promise<AllocatedIdentity | undefined>): Promise<PolicyExplainResponse>;
  /** Called with the new revision after every change. */
  onChange(listener: (revision: number) => void): () => void;
}

/** libs/datapath-native: read-only view of the agent's pinned maps for GET /v1/map. */
export interface MapInspector {
  list(): Promise<BPFMapProperties[]>;
  dump(name: string): Promise<BPFMap | undefined>;
}

/** libs/datapath-native: the datapath's events (trace, drop, policy verdict), decoded, in batches. */
export interface DatapathEventSource {
  subscribe(listener: (events: readonly DatapathEvent[]) => void): () => void;
  stats(): { events: number; undecodable: number; lostInUserspace: number };
}

/** What the rest of the cluster looks like, synchronously, for naming the peers of flows (kvstore). */
export interface ClusterLookups {
  identityLabels(id: number): readonly string[] | undefined;
  ipcache(ip: string): { identity: number; namespace?: string; podName?: string } | undefined;
}
