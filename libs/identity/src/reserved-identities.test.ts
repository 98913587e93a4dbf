import { describe, expect, it } from 'vitest';
import { isLocalIdentity, isReservedIdentity, lookupReservedById, lookupReservedByLabels, ReservedIdentity } from './reserved-identities.js';

describe('reserved identities', () => {
  it('use upstream numbers', () => {
    expect(ReservedIdentity).toMatchObject({ host: 1, world: 2, unmanaged: 3, health: 4, init: 5, remoteNode: 6, kubeApiserver: 7, ingress: 8 });
  });

  it('resolve by labels in any order and form', () => {
    expect(lookupReservedByLabels(['reserved:host'])?.id).toBe(1);
    expect(lookupReservedByLabels(['reserved:world='])?.id).toBe(2);
    expect(lookupReservedByLabels(['reserved:remote-node', 'reserved:kube-apiserver'])?.id).toBe(7);
    expect(lookupReservedByLabels(['k8s:app=web'])).toBeUndefined();
  });

  it('resolve by id', () => {
    expect(lookupReservedById(4)?.name).toBe('health');
    expect(lookupReservedById(256)).toBeUndefined();
  });

  it('classify ranges', () => {
    expect(isReservedIdentity(255)).toBe(true);
    expect(isReservedIdentity(256)).toBe(false);
    expect(isLocalIdentity(16777217)).toBe(true);
    expect(isLocalIdentity(65535)).toBe(false);
  });
});
