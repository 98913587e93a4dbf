// writePolicy keeps an endpoint's policy map and its set of prefix lengths in step.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BpfObject } from '@cilium-ts/datapath-native';
import { decodePolicyEntry, decodePolicyKey, decodePolicyPrefixSet } from '../src/codecs/policy.js';
import { writePolicy } from '../src/map-writers.js';
import { TestDatapath } from '../src/testing/datapath-harness.js';

let dp: TestDatapath;
let ep: BpfObject;
beforeEach(() => {
  dp = new TestDatapath();
  ep = dp.endpoint({ id: 31, identity: 1000 });
});
afterEach(async () => {
  await dp.close();
});

const lengths = () => decodePolicyPrefixSet(ep.map('cilium_pol_lens').lookup(Buffer.alloc(4)) as Buffer);

describe('writePolicy', () => {
  it('writes one entry per port prefix and records which prefix lengths exist', () => {
    expect(writePolicy(ep, [
      { identity: 2000, direction: 'ingress', protocol: 6, port: 8080, endPort: 8083 },
      { identity: 0, direction: 'egress' },
    ])).toBe(2);
    expect(lengths()).toEqual([8, 30]);
    const keys = [...ep.map('cilium_policy').keys()].map(decodePolicyKey);
    expect(keys).toContainEqual({ identity: 2000, direction: 'ingress', protocol: 6, port: 8080, portPrefixLength: 14 });
  });

  it('replaces the previous content and narrows the prefix lengths', () => {
    writePolicy(ep, [{ identity: 2000, direction: 'ingress', protocol: 6, port: 79, endPort: 82 }]);
    expect(lengths()).toEqual([31, 32]);
    writePolicy(ep, [{ identity: 2000, direction: 'ingress', protocol: 17, deny: true }]);
    expect(lengths()).toEqual([16]);
    const entries = [...ep.map('cilium_policy').entries()];
    expect(entries).toHaveLength(1);
    expect(decodePolicyEntry((entries[0] as [Buffer, Buffer])[1])).toMatchObject({ deny: true });
  });
});
