// Request and response bodies of the agent's REST API (/v1 on its unix socket). Field names follow
// upstream's api/v1/openapi.yaml models where one exists; the CLI imports these as types only.

export type EndpointState =
  | 'waiting-for-identity'
  | 'not-ready'
  | 'waiting-to-regenerate'
  | 'regenerating'
  | 'restoring'
  | 'ready'
  | 'disconnecting'
  | 'disconnected'
  | 'invalid';

export type EndpointPolicyEnabled = 'none' | 'ingress' | 'egress' | 'both';
export type HealthState = 'Ok' | 'Warning' | 'Failure' | 'Disabled';
export type EndpointHealthStatus = 'OK' | 'Bootstrap' | 'Pending' | 'Warning' | 'Failure' | 'Disabled';

/** Every 4xx/5xx answer. `code` is a stable machine-readable word, `message` says what is wrong. */
export interface ApiError {
  code: string;
  message: string;
}

export interface AddressPair {
  ipv4?: string;
  ipv6?: string;
}

export interface EndpointChangeRequest {
  id?: number;
  'container-id'?: string;
  'container-name'?: string;
  labels?: string[];
  'interface-name'?: string;
  'interface-index'?: number;
  state?: EndpointState;
  mac?: string;
  'host-mac'?: string;
  addressing?: AddressPair;
  'k8s-pod-name'?: string;
  'k8s-namespace'?: string;
  /** Ours: path of the endpoint's network namespace (upstream passes a netns cookie). */
  'netns-path'?: string;
  'sync-build-endpoint'?: boolean;
}

export interface LabelsPatch {
  /** Labels to add or replace (source:key=value). */
  add?: string[];
  /** Labels to remove (by source:key, any value). */
  delete?: string[];
}

export interface Identity {
  id: number;
  labels: string[];
  labelsSHA256?: string;
}

export interface EndpointIdentifiers {
  'container-id'?: string;
  'container-name'?: string;
  'pod-name'?: string;
  'k8s-pod-name'?: string;
  'k8s-namespace'?: string;
  'netns-path'?: string;
}

export interface NodeAddressingElement {
  enabled: boolean;
  ip?: string;
  'alloc-range'?: string;
}

export interface NodeAddressing {
  ipv4: NodeAddressingElement;
  ipv6: NodeAddressingElement;
}

export interface EndpointNetworking {
  addressing: AddressPair[];
  'host-addressing'?: NodeAddressing;
  mac?: string;
  'host-mac'?: string;
  'interface-name'?: string;
  'interface-index'?: number;
}

export interface EndpointPolicy {
  'policy-revision': number;
  id: number;
  'policy-enabled': EndpointPolicyEnabled;
  'allowed-ingress-identities': number[];
  'denied-ingress-identities': number[];
  'allowed-egress-identities': number[];
  'denied-egress-identities': number[];
}

export interface EndpointStatusChange {
  timestamp: string;
  code: 'ok' | 'failed';
  message: string;
  state: EndpointState;
}

export interface EndpointHealth {
  overallHealth: EndpointHealthStatus;
  bpf: EndpointHealthStatus;
  policy: EndpointHealthStatus;
  connected: boolean;
}

export interface EndpointStatus {
  state: EndpointState;
  'external-identifiers': EndpointIdentifiers;
  identity?: Identity;
  labels: { realized: { user: string[] }; 'security-relevant': string[] };
  networking: EndpointNetworking;
  policy: { realized: EndpointPolicy; spec: EndpointPolicy };
  log: EndpointStatusChange[];
  health: EndpointHealth;
}

export interface Endpoint {
  id: number;
  status: EndpointStatus;
}

export interface IPAMAddressResponse {
  ip: string;
  gateway: string;
  cidrs: string[];
}

export interface IPAMResponse {
  address: AddressPair;
  ipv4?: IPAMAddressResponse;
  ipv6?: IPAMAddressResponse;
  'host-addressing': NodeAddressing;
}

export interface Status {
  state: HealthState;
  msg: string;
}

export interface ControllerStatus {
  name: string;
  status: {
    'consecutive-failure-count': number;
    'last-failure-msg'?: string;
    'last-success-timestamp'?: string;
    'last-failure-timestamp'?: string;
  };
}

export interface ModuleHealthStatus {
  module: string;
  level: 'ok' | 'degraded' | 'stopped';
  message: string;
  since: string;
}

export interface StatusResponse {
  cilium: Status;
  kvstore: Status;
  'container-runtime'?: Status;
  kubernetes: Status;
  cluster: { self: string; nodes: NodeElement[] };
  controllers: ControllerStatus[];
  ipam: { allocations: Record<string, string>; ipv4: string[]; ipv6: string[]; status: string };
  hubble: Status;
  'host-routing': { mode: 'BPF' | 'Legacy' };
  /** Ours: the routing between nodes (upstream reports it inside its config). */
  routing: { mode: 'vxlan' | 'native' };
  'policy-enforcement': 'default' | 'always' | 'never';
  'endpoint-count': number;
  /** Ours: every agent module's health (hive health in upstream's `cilium-dbg status --all-health`). */
  modules: ModuleHealthStatus[];
}

export interface DaemonConfigurationSpec {
  options: Record<string, string>;
  'policy-enforcement': 'default' | 'always' | 'never';
}

export interface DaemonConfiguration {
  spec: DaemonConfigurationSpec;
  status: {
    realized: DaemonConfigurationSpec;
    immutable: Record<string, string>;
    addressing: NodeAddressing;
    datapathMode: 'veth';
    'routing-mode': 'vxlan' | 'native';
    'ipam-mode': 'host-scope';
  };
}

export interface DaemonConfigurationPatch {
  options?: Record<string, string>;
  'policy-enforcement'?: 'default' | 'always' | 'never';
}

export interface Policy {
  revision: number;
  /** The rules as a JSON text, as upstream returns them. */
  policy: string;
}

export interface PolicyValidationResult {
  valid: boolean;
  /** Each error names the document and the field, e.g. `rules.yaml[0]: spec.ingress[0].toPorts[0].ports[0].port: ...`. */
  errors: string[];
}

export interface PolicyExplainPeer {
  /** Labels (source:key=value or key=value). */
  labels?: string[];
  identity?: number;
  /** An endpoint reference: numeric id, container-id:<id> or pod-name:<ns>:<name>. */
  endpoint?: string;
}

export interface PolicyExplainRequest {
  from: PolicyExplainPeer;
  to: PolicyExplainPeer;
  dport?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP' | 'ICMP' | 'ANY';
}

export interface PolicyExplainResponse {
  verdict: 'allowed' | 'denied' | 'default-denied' | 'no-enforcement';
  /** Human-readable account of the decision, one line per step. */
  log: string[];
  /** Rules that decided, by their labels. */
  rules: { direction: 'ingress' | 'egress'; verdict: 'allow' | 'deny'; labels: string[] }[];
}

export interface BPFMapEntry {
  key: string;
  value: string;
  'desired-action': 'ok' | 'insert' | 'delete';
  'last-error'?: string;
}

export interface BPFMap {
  path: string;
  cache: BPFMapEntry[];
}

export interface BPFMapProperties {
  name: string;
  path: string;
  size: number;
  /** Ours: cached entries whose last write failed. */
  errors: number;
}

export interface BPFMapList {
  maps: BPFMapProperties[];
}

export interface NodeElement {
  name: string;
  'primary-address': NodeAddressing;
}

export interface ClusterNodesResponse {
  self: string;
  nodes: NodeElement[];
}

/** GET /v1/metrics/: one sample of the agent's metrics. */
export interface Metric {
  name: string;
  value: number;
  labels: Record<string, string>;
}
