// Reserved identities with upstream's numbers (pkg/identity/numericidentity.go). They are the same
// on every node by definition, so they resolve without etcd.
import { canonicalLabels, type LabelSet } from './labels.js';

export const ReservedIdentity = {
  unknown: 0,
  host: 1,
  world: 2,
  unmanaged: 3,
  health: 4,
  init: 5,
  remoteNode: 6,
  kubeApiServer: 7,
  ingress: 8,
  worldIPv4: 9,
  worldIPv6: 10,
  encryptedOverlay: 11,
} as const;

/** First identity of the cluster-wide range (cluster 0: 256..65535). */
export const MIN_CLUSTER_IDENTITY = 256;
export const MAX_CLUSTER_IDENTITY = 65535;
/** Node-local identities (CIDR, FQDN) carry scope 1 in the top 8 bits. */
export const LOCAL_IDENTITY_SCOPE = 1 << 24;
export const MIN_LOCAL_IDENTITY = LOCAL_IDENTITY_SCOPE + 1;
export const MAX_LOCAL_IDENTITY = 0x1ffffff;

export interface ReservedIdentityInfo {
  id: number;
  name: string;
  labels: string[];
}

const reserved: ReservedIdentityInfo[] = [
  { id: ReservedIdentity.host, name: 'host', labels: ['reserved:host='] },
  { id: ReservedIdentity.world, name: 'world', labels: ['reserved:world='] },
  { id: ReservedIdentity.unmanaged, name: 'unmanaged', labels: ['reserved:unmanaged='] },
  { id: ReservedIdentity.health, name: 'health', labels: ['reserved:health='] },
  { id: ReservedIdentity.init, name: 'init', labels: ['reserved:init='] },
  { id: ReservedIdentity.remoteNode, name: 'remote-node', labels: ['reserved:remote-node='] },
  // Upstream gives the kube-apiserver on a remote node both labels; identity 7 stands for it.
  {
    id: ReservedIdentity.kubeApiServer,
    name: 'kube-apiserver',
    labels: ['reserved:kube-apiserver=', 'reserved:remote-node='],
  },
  { id: ReservedIdentity.ingress, name: 'ingress', labels: ['reserved:ingress='] },
  { id: ReservedIdentity.worldIPv4, name: 'world-ipv4', labels: ['reserved:world-ipv4='] },
  { id: ReservedIdentity.worldIPv6, name: 'world-ipv6', labels: ['reserved:world-ipv6='] },
  { id: ReservedIdentity.encryptedOverlay, name: 'encrypted-overlay', labels: ['reserved:encrypted-overlay='] },
];

const byId = new Map(reserved.map((r) => [r.id, r]));
const byLabels = new Map(reserved.map((r) => [canonicalLabels(r.labels), r]));
byLabels.set(canonicalLabels(['reserved:kube-apiserver=']), byId.get(ReservedIdentity.kubeApiServer)!);

export function reservedIdentities(): readonly ReservedIdentityInfo[] {
  return reserved;
}

export function lookupReservedById(id: number): ReservedIdentityInfo | undefined {
  return byId.get(id);
}

export function lookupReservedByLabels(labels: LabelSet): ReservedIdentityInfo | undefined {
  return byLabels.get(canonicalLabels(labels));
}

/** As `lookupReservedByLabels`, for a label string already in canonical form. */
export function lookupReservedByLabelString(labelString: string): ReservedIdentityInfo | undefined {
  return byLabels.get(labelString);
}

export function isReservedIdentity(id: number): boolean {
  return id >= 0 && id < MIN_CLUSTER_IDENTITY;
}

export function isLocalIdentity(id: number): boolean {
  return (id & 0xff000000) === LOCAL_IDENTITY_SCOPE;
}
