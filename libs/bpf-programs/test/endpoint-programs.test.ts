// One load of the endpoint programs serves every endpoint of the node: an endpoint is entries in the node's
// maps, its policy a map of its own swapped in whole, and everything survives an agent restart (a new load
// with the same pin root).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DropReason } from '../src/codecs/events.js';
import { decodePolicyEntry, decodePolicyKey } from '../src/codecs/policy.js';
import { EndpointPrograms } from '../src/endpoint-programs.js';
import { TC_ACT_OK, TC_ACT_SHOT, TestDatapath, type TestEndpoint } from '../src/testing/datapath-harness.js';
import { TCP_FLAGS, tcp } from '../src/testing/packet-builder.js';
import { upsertIpcache } from '../src/map-writers.js';

const POD = '10.0.0.1';
const PEER = '10.0.0.2';
const { syn } = TCP_FLAGS;

let dp: TestDatapath;
let ep: TestEndpoint;
beforeEach(() => {
  dp = new TestDatapath();
  ep = dp.endpoint({ id: 31, identity: 1000, ips: [POD] });
  upsertIpcache(dp.map('cilium_ipcache'), `${PEER}/32`, { identity: 2000 });
});
afterEach(async () => {
  await dp.close();
});

describe('writePolicy', () => {
  it('writes one entry per port prefix and records which prefix lengths exist', () => {
    expect(ep.writePolicy([
      { identity: 2000, direction: 'ingress', protocol: 6, port: 8080, endPort: 8083 },
      { identity: 0, direction: 'egress' },
    ])).toBe(2);
    expect(ep.prefixLengths()).toEqual([8, 30]);
    const keys = [...ep.policyMap().keys()].map(decodePolicyKey);
    expect(keys).toContainEqual({ identity: 2000, direction: 'ingress', protocol: 6, port: 8080, portPrefixLength: 14 });
  });

  it('rewrites the endpoint\'s map in place, keeping only the new entries, and narrows the prefix lengths', () => {
    ep.writePolicy([{ identity: 2000, direction: 'ingress', protocol: 6, port: 79, endPort: 82 }]);
    const map = ep.policyMap();
    expect(ep.prefixLengths()).toEqual([31, 32]);
    ep.writePolicy([{ identity: 2000, direction: 'ingress', protocol: 17, deny: true }]);
    expect(ep.prefixLengths()).toEqual([16]);
    expect(ep.policyMap()).toBe(map);
    const entries = [...map.entries()];
    expect(entries).toHaveLength(1);
    expect(decodePolicyEntry((entries[0] as [Buffer, Buffer])[1])).toMatchObject({ deny: true });
  });

  it('swaps in a larger map, whole, for a policy beyond the 16 384 entries of the first', () => {
    const small = ep.policyMap();
    const rules = Array.from({ length: 20_000 }, (_, i) => ({ identity: 10_000 + i, direction: 'egress' as const }));
    expect(ep.writePolicy(rules)).toBe(20_000);
    expect(small.closed).toBe(true);
    expect(ep.policyMap().maxEntries).toBe(20_000);
    const inOuterMap = dp.programs().policyMaps.lookup(Buffer.from([31, 0, 0, 0]));
    expect(inOuterMap?.readUInt32LE(0)).toBe(ep.policyMap().info().id);
    expect(ep.prefixLengths()).toEqual([8]);
  });
});

describe('endpoints share one program load', () => {
  it('each packet gets the identity and policy of the endpoint it belongs to', () => {
    const other = dp.endpoint({ id: 32, identity: 1001, ips: ['10.0.0.3'] });
    ep.writePolicy([{ identity: 2000, direction: 'egress' }]);
    other.writePolicy([]);
    expect(ep.program('cil_from_container')).toBe(other.program('cil_from_container'));
    expect(dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, syn)).retval).toBe(TC_ACT_OK);
    expect(dp.run(ep, 'cil_from_container', tcp('10.0.0.3', PEER, 40000, 80, syn)).retval).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.policyDenied, 'egress').count).toBe(1n);
  });

  it('drops packets from an address no endpoint has, or from another veth than its endpoint\'s, with reason 132', () => {
    ep.writePolicy([{ identity: 0, direction: 'egress' }]);
    expect(dp.run(ep, 'cil_from_container', tcp('10.0.0.99', PEER, 40000, 80, syn)).retval).toBe(TC_ACT_SHOT);
    // Registered on a veth the packet did not come over (BPF_PROG_TEST_RUN runs on ifindex 1).
    dp.endpoint({ id: 33, identity: 1002, ips: ['10.0.0.4'], ifindex: 4242 }).writePolicy([{ identity: 0, direction: 'egress' }]);
    expect(dp.run(ep, 'cil_from_container', tcp('10.0.0.4', PEER, 40000, 80, syn)).retval).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.invalidSourceIp, 'egress').count).toBe(2n);
  });

  it('drops packets into an address no endpoint has with reason 203 (endpoint not ready)', () => {
    expect(dp.run(ep, 'cil_to_container', tcp(PEER, '10.0.0.99', 80, 40000, syn)).retval).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.endpointNotReady, 'ingress').count).toBe(1n);
  });

  it('an unregistered endpoint is gone from every map and its packets are dropped', () => {
    ep.writePolicy([{ identity: 0, direction: 'egress' }]);
    dp.programs().unregisterEndpoint(31, [POD]);
    expect(dp.programs().endpointIds()).toEqual([]);
    expect(ep.prefixLengths()).toEqual([]);
    expect(dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, syn)).retval).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.invalidSourceIp, 'egress').count).toBe(1n);
  });
});

describe('agent restart', () => {
  it('a new load with the same pin root finds the endpoints, keeps their policy in force and can replace it', () => {
    const pinRoot = `/sys/fs/bpf/cts-test-${randomBytes(4).toString('hex')}`;
    const before = EndpointPrograms.load(pinRoot);
    let after: EndpointPrograms | undefined;
    try {
      before.registerEndpoint({ id: 7, ips: [POD], ifindex: 1, mac: '02:00:00:00:00:07', identity: 1000 }, [
        { identity: 0, direction: 'egress', protocol: 6, port: 80 },
      ]);
      before.close();

      after = EndpointPrograms.load(pinRoot);
      expect(after.endpointIds()).toEqual([7]);
      const run = (dport: number) => after!.programs.fromContainer.testRun({ data: tcp(POD, PEER, 40000 + dport, dport, syn) }).retval;
      expect(run(80)).toBe(TC_ACT_OK);
      expect(run(81)).toBe(TC_ACT_SHOT);
      after.writePolicy(7, [{ identity: 0, direction: 'egress', protocol: 6, port: 81 }]);
      expect(run(81)).toBe(TC_ACT_OK);
      expect(run(82)).toBe(TC_ACT_SHOT);
    } finally {
      before.close();
      after?.close();
      rmSync(pinRoot, { recursive: true, force: true });
    }
  });
});
