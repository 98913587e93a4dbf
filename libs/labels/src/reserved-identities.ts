// Reserved identities and identity scopes with upstream's numbers (pkg/identity/numericidentity.go).
import type { Label } from './labels.js';
import { LabelSource } from './labels.js';

export const ReservedIdentity = {
  unknown: 0,
  host: 1,
  world: 2,
  unmanaged: 3,
  health: 4,
  init: 5,
  remoteNode: 6,
  kubeApiserver: 7,
  ingress: 8,
  worldIPv4: 9,
  worldIPv6: 10,
  encryptedOverlay: 11,
} as const;

/** Identity scope bits: the top 8 bits of the 32-bit identity. */
export const IdentityScope = { global: 0, local: 1 << 24, remoteNode: 2 << 24 } as const;
export const IdentityScopeMask = 0xff000000;
/** First identity allocated for workloads in a cluster (0..255 are reserved). */
export const MinimalAllocationIdentity = 256;
export const MaxLocalIdentity = 0x1ffffff;

const reservedNames: Readonly<Record<number, string>> = {
  1: 'host',
  2: 'world',
  3: 'unmanaged',
  4: 'health',
  5: 'init',
  6: 'remote-node',
  7: 'kube-apiserver',
  8: 'ingress',
  9: 'world-ipv4',
  10: 'world-ipv6',
  11: 'encrypted-overlay',
};

export function reservedIdentityName(id: number): string | undefined {
  return id === 0 ? 'unknown' : reservedNames[id];
}

export function reservedIdentityByName(name: string): number | undefined {
  for (const [id, n] of Object.entries(reservedNames)) if (n === name) return Number(id);
  return name === 'unknown' ? 0 : undefined;
}

/** The labels of a reserved identity. kube-apiserver also carries `reserved:remote-node`, as upstream. */
export function reservedIdentityLabels(id: number): Label[] {
  const name = reservedNames[id];
  if (name === undefined) return [];
  const labels: Label[] = [{ source: LabelSource.reserved, key: name, value: '' }];
  if (id === ReservedIdentity.kubeApiserver) labels.push({ source: LabelSource.reserved, key: 'remote-node', value: '' });
  return labels;
}

export interface ReservedIdentityOptions {
  /** With dual stack, world-ipv4 (9) and world-ipv6 (10) exist next to world (2). */
  dualStack?: boolean;
}

/** All reserved identities (id and labels) a node knows from the start. */
export function reservedIdentities(options: ReservedIdentityOptions = {}): { id: number; labels: Label[] }[] {
  const ids = [1, 2, 3, 4, 5, 6, 7, 8];
  if (options.dualStack === true) ids.push(9, 10);
  return ids.map((id) => ({ id, labels: reservedIdentityLabels(id) }));
}

export function isReservedIdentity(id: number): boolean {
  return id > 0 && id < MinimalAllocationIdentity;
}

export function isLocalIdentity(id: number): boolean {
  return (id & IdentityScopeMask) >>> 0 === IdentityScope.local;
}
