// Reserved identities resolve without etcd: they are the same on every node by definition. The numbers
// and labels are @cilium-ts/labels'; this module indexes them by the canonical label string the
// allocator works with.
import {
  IdentityScope,
  MaxLocalIdentity,
  MinimalAllocationIdentity,
  ReservedIdentity,
  formatLabel,
  isLocalIdentity,
  isReservedIdentity,
  reservedIdentityLabels,
  reservedIdentityName,
} from '@cilium-ts/labels';
import { canonicalLabels, type LabelSet } from './labels.js';

export { ReservedIdentity, isLocalIdentity, isReservedIdentity };

/** The cluster-wide range of cluster 0 (256..65535). */
export const MIN_CLUSTER_IDENTITY = MinimalAllocationIdentity;
export const MAX_CLUSTER_IDENTITY = 65535;
/** Node-local identities (CIDR, FQDN) carry scope 1 in the top 8 bits. */
export const LOCAL_IDENTITY_SCOPE = IdentityScope.local;
export const MIN_LOCAL_IDENTITY = LOCAL_IDENTITY_SCOPE + 1;
export const MAX_LOCAL_IDENTITY = MaxLocalIdentity;

export interface ReservedIdentityInfo {
  id: number;
  name: string;
  labels: string[];
}

const reserved: ReservedIdentityInfo[] = Object.values(ReservedIdentity)
  .filter((id) => id !== ReservedIdentity.unknown)
  .map((id) => ({ id, name: reservedIdentityName(id)!, labels: reservedIdentityLabels(id).map(formatLabel) }));

const byId = new Map(reserved.map((r) => [r.id, r]));
const byLabels = new Map(reserved.map((r) => [canonicalLabels(r.labels), r]));
// A kube-apiserver seen without its remote-node label is still identity 7.
byLabels.set(canonicalLabels(['reserved:kube-apiserver']), byId.get(ReservedIdentity.kubeApiserver)!);

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
