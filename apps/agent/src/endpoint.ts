// An endpoint: one workload interface the agent manages (a pod's veth). This file holds its record (the
// form persisted in the state dir), the ways to refer to one, and its API representation.
import type {
  Endpoint as ApiEndpoint,
  EndpointHealthStatus,
  EndpointPolicy,
  EndpointPolicyEnabled,
  EndpointState,
  EndpointStatusChange,
  NodeAddressing,
} from '@cilium-ts/agent-api';
import type { EndpointView, PolicyMapEntry } from './seams.js';

export const MIN_ENDPOINT_ID = 1;
export const MAX_ENDPOINT_ID = 4095;
const MAX_LOG = 16;

export interface EndpointRecord extends EndpointView {
  readonly containerId?: string;
  readonly containerName?: string;
  readonly identityLabels?: readonly string[];
  readonly state: EndpointState;
  /** Policy revision enforced in the datapath (0: none yet). */
  readonly policyRevision: number;
  readonly policyEnabled: EndpointPolicyEnabled;
  /** Whether the datapath programs have been attached at least once. */
  readonly attached: boolean;
  readonly createdAt: string;
  readonly log: readonly EndpointStatusChange[];
}

export type EndpointRef =
  | { kind: 'id'; id: number }
  | { kind: 'container-id'; containerId: string }
  | { kind: 'pod-name'; namespace: string; podName: string };

export class EndpointRefError extends Error {
  override name = 'EndpointRefError';
}

/** Parses upstream's endpoint id forms: 42, cilium-local:42, container-id:<id>, pod-name:<ns>:<name> (or <ns>/<name>). */
export function parseEndpointRef(text: string): EndpointRef {
  const decoded = decodeURIComponent(text);
  if (/^\d+$/.test(decoded)) return idRef(decoded);
  const colon = decoded.indexOf(':');
  const prefix = colon < 0 ? '' : decoded.slice(0, colon);
  const rest = colon < 0 ? '' : decoded.slice(colon + 1);
  switch (prefix) {
    case 'cilium-local':
      if (/^\d+$/.test(rest)) return idRef(rest);
      break;
    case 'container-id':
      if (rest) return { kind: 'container-id', containerId: rest };
      break;
    case 'pod-name': {
      const m = /^([^:/]+)[:/]([^:/]+)$/.exec(rest);
      if (m) return { kind: 'pod-name', namespace: m[1]!, podName: m[2]! };
      break;
    }
  }
  throw new EndpointRefError(
    `invalid endpoint id "${decoded}": expected a number ${MIN_ENDPOINT_ID}-${MAX_ENDPOINT_ID}, cilium-local:<n>, container-id:<id> or pod-name:<namespace>:<name>`,
  );
}

function idRef(text: string): EndpointRef {
  const id = Number(text);
  if (id < MIN_ENDPOINT_ID || id > MAX_ENDPOINT_ID) {
    throw new EndpointRefError(`invalid endpoint id "${text}": must be between ${MIN_ENDPOINT_ID} and ${MAX_ENDPOINT_ID}`);
  }
  return { kind: 'id', id };
}

export function formatEndpointRef(ref: EndpointRef): string {
  switch (ref.kind) {
    case 'id':
      return String(ref.id);
    case 'container-id':
      return `container-id:${ref.containerId}`;
    case 'pod-name':
      return `pod-name:${ref.namespace}:${ref.podName}`;
  }
}

export function withLog(rec: EndpointRecord, code: 'ok' | 'failed', message: string, state: EndpointState): EndpointRecord {
  const entry: EndpointStatusChange = { timestamp: new Date().toISOString(), code, message, state };
  return { ...rec, state, log: [entry, ...rec.log].slice(0, MAX_LOG) };
}

function identitiesOf(entries: readonly PolicyMapEntry[], direction: 'ingress' | 'egress', verdict: 'allow' | 'deny'): number[] {
  const ids = new Set<number>();
  for (const e of entries) if (e.direction === direction && e.verdict === verdict) ids.add(e.identity);
  return [...ids].sort((a, b) => a - b);
}

function healthOf(state: EndpointState): EndpointHealthStatus {
  switch (state) {
    case 'ready':
      return 'OK';
    case 'not-ready':
    case 'invalid':
      return 'Failure';
    case 'disconnecting':
    case 'disconnected':
      return 'Disabled';
    case 'restoring':
    case 'waiting-for-identity':
      return 'Bootstrap';
    default:
      return 'Pending';
  }
}

/** The endpoint as upstream's Endpoint model (id + status). */
export function toApiEndpoint(rec: EndpointRecord, policyEntries: readonly PolicyMapEntry[], hostAddressing: NodeAddressing): ApiEndpoint {
  const policy: EndpointPolicy = {
    'policy-revision': rec.policyRevision,
    id: rec.identity ?? 0,
    'policy-enabled': rec.policyEnabled,
    'allowed-ingress-identities': identitiesOf(policyEntries, 'ingress', 'allow'),
    'denied-ingress-identities': identitiesOf(policyEntries, 'ingress', 'deny'),
    'allowed-egress-identities': identitiesOf(policyEntries, 'egress', 'allow'),
    'denied-egress-identities': identitiesOf(policyEntries, 'egress', 'deny'),
  };
  const addressing: { ipv4?: string; ipv6?: string } = {};
  if (rec.ipv4) addressing.ipv4 = rec.ipv4;
  if (rec.ipv6) addressing.ipv6 = rec.ipv6;
  const ids: ApiEndpoint['status']['external-identifiers'] = {};
  if (rec.containerId) ids['container-id'] = rec.containerId;
  if (rec.containerName) ids['container-name'] = rec.containerName;
  if (rec.podName && rec.namespace) {
    ids['pod-name'] = `${rec.namespace}/${rec.podName}`;
    ids['k8s-pod-name'] = rec.podName;
    ids['k8s-namespace'] = rec.namespace;
  }
  if (rec.netnsPath) ids['netns-path'] = rec.netnsPath;
  const networking: ApiEndpoint['status']['networking'] = { addressing: [addressing], 'host-addressing': hostAddressing };
  if (rec.mac) networking.mac = rec.mac;
  if (rec.hostMac) networking['host-mac'] = rec.hostMac;
  if (rec.interfaceName) networking['interface-name'] = rec.interfaceName;
  if (rec.interfaceIndex !== undefined) networking['interface-index'] = rec.interfaceIndex;
  const health = healthOf(rec.state);
  const status: ApiEndpoint['status'] = {
    state: rec.state,
    'external-identifiers': ids,
    labels: { realized: { user: [...rec.labels] }, 'security-relevant': [...(rec.identityLabels ?? rec.labels)] },
    networking,
    policy: { realized: policy, spec: policy },
    log: [...rec.log],
    health: { overallHealth: health, bpf: rec.attached ? health : 'Pending', policy: health, connected: rec.state !== 'disconnected' },
  };
  if (rec.identity !== undefined) status.identity = { id: rec.identity, labels: [...(rec.identityLabels ?? [])] };
  return { id: rec.id, status };
}
