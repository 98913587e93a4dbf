import { isLocalIdentity, parseLabel } from '@cilium-ts/labels';
import { describe, expect, it } from 'vitest';
import { InMemoryLocalIdentityAllocator } from './local-identities.js';

describe('node-local identities', () => {
  it('allocates local identities in the local scope, stable per label set', () => {
    const a = new InMemoryLocalIdentityAllocator();
    const first = a.allocateLocalIdentity([parseLabel('cidr:10.0.0.0/8')]);
    expect(first).toBe((1 << 24) | 1);
    expect(isLocalIdentity(first)).toBe(true);
    expect(a.allocateLocalIdentity([parseLabel('cidr:10.0.0.0/8')])).toBe(first);
    expect(a.allocateLocalIdentity([parseLabel('cidr:10.0.0.0/16')])).toBe((1 << 24) | 2);
  });
});
