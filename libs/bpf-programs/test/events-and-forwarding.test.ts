// Events in the ring buffer (drop, policy verdict, aggregated traces) and the
// forwarding decisions: local endpoint, tunnel, stack.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DropReason, type DropEvent, type PolicyVerdictEvent, type TraceEvent } from '../src/codecs/events.js';
import { upsertEndpoint, upsertIpcache } from '../src/map-writers.js';
import { TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT, TestDatapath, type TestEndpoint } from '../src/testing/datapath-harness.js';
import { TCP_FLAGS, tcp } from '../src/testing/packet-builder.js';

const POD = '10.0.0.1';
const PEER = '10.0.0.2';
const { syn, ack, fin } = TCP_FLAGS;
let dp: TestDatapath;
let ep: TestEndpoint;

const identityMark = (id: number) => (((id & 0xffff) << 16) | 0x0f00 | ((id >> 16) & 0xff)) >>> 0;

beforeEach(() => {
  dp = new TestDatapath();
  ep = dp.endpoint({ id: 21, identity: 1000, ips: [POD], tunnelIfindex: 77 });
  upsertIpcache(dp.map('cilium_ipcache'), `${PEER}/32`, { identity: 2000 });
  upsertIpcache(dp.map('cilium_ipcache'), '10.0.5.0/24', { identity: 4000, tunnelEndpoint: '192.168.1.2' });
  dp.watchEvents();
});
afterEach(async () => {
  await dp.close();
});

describe('events', () => {
  it('reports a denied packet as a policy verdict and a drop with identities and the first bytes', async () => {
    const data = tcp(POD, PEER, 40000, 80, syn);
    expect(dp.run(ep, 'cil_from_container', data).retval).toBe(TC_ACT_SHOT);
    await expect.poll(() => dp.events.length).toBe(2);
    const verdict = dp.events.find((e) => e.kind === 'policy-verdict') as PolicyVerdictEvent;
    expect(verdict).toMatchObject({
      source: 21, srcIdentity: 1000, dstIdentity: 2000, remoteIdentity: 2000, verdict: -133, allowed: false,
      direction: 'egress', dstPort: 80, matchType: 0,
    });
    const drop = dp.events.find((e) => e.kind === 'drop') as DropEvent;
    expect(drop).toMatchObject({ reason: DropReason.policyDenied, source: 21, srcIdentity: 1000, dstIdentity: 2000, direction: 'egress' });
    expect(drop.origLength).toBe(data.length);
    expect(drop.data).toEqual(data);
  });

  it('counts events the full ring buffer could not take in the metrics map', () => {
    const ring = new TestDatapath();
    try {
      const quiet = ring.endpoint({ id: 23, identity: 1000, ips: [POD] });
      // Nobody reads this ring: 20 000 denied packets make 40 000 events, far more than 1 MiB holds.
      quiet.program('cil_from_container').testRun({ data: tcp(POD, PEER, 40000, 80, syn), repeat: 20_000 });
      expect(ring.metric(DropReason.policyDenied, 'egress').count).toBe(20_000n);
      expect(ring.metric(255, 'none').count).toBeGreaterThan(30_000n);
    } finally {
      void ring.close();
    }
  });

  it('caps the captured bytes at 128', async () => {
    const big = Buffer.concat([tcp(POD, PEER, 40000, 80, syn), Buffer.alloc(300, 0xab)]);
    big.writeUInt16BE(big.length - 14, 16);
    dp.run(ep, 'cil_from_container', big);
    await expect.poll(() => dp.events.find((e) => e.kind === 'drop')?.data.length).toBe(128);
    expect(dp.events.find((e) => e.kind === 'drop')?.origLength).toBe(big.length);
  });

  it('aggregates traces per connection: new, first FIN, not every packet', async () => {
    ep.writePolicy([{ identity: 0, direction: 'egress' }]);
    dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, syn));
    for (let i = 0; i < 20; i++) dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, ack));
    dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, fin | ack));
    dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, fin | ack));
    await expect.poll(() => dp.events.filter((e) => e.kind === 'trace').length).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    const traces = dp.events.filter((e): e is TraceEvent => e.kind === 'trace');
    expect(traces.map((t) => [t.observationPoint, t.reason])).toEqual([[3, 0], [3, 1]]); // to-stack: new, established
    expect(dp.metric(0, 'egress').count).toBe(23n);
  });
});

describe('forwarding', () => {
  it('delivers to a local endpoint through its own ingress policy (tail call into cil_lxc_policy)', () => {
    ep.writePolicy([{ identity: 0, direction: 'egress' }]);
    const peer = dp.endpoint({ id: 22, identity: 2000, ips: [PEER] });
    upsertEndpoint(dp.map('cilium_lxc'), PEER, {
      ifindex: 42, endpointId: 22, mac: '0a:00:00:00:00:22', nodeMac: '0a:00:00:00:00:01', identity: 2000,
    });
    peer.writePolicy([{ identity: 1000, direction: 'ingress', protocol: 6, port: 80 }]);
    // Allowed by the peer: redirected straight into the peer pod.
    expect(dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, syn)).retval).toBe(TC_ACT_REDIRECT);
    // Denied by the peer's ingress policy, although the sender's egress allows it.
    expect(dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40001, 81, syn)).retval).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.policyDenied, 'ingress').count).toBe(1n);
  });

  it('redirects to a local endpoint with its MACs and the source identity in the mark', () => {
    ep.writePolicy([{ identity: 0, direction: 'egress' }]);
    upsertEndpoint(dp.map('cilium_lxc'), PEER, {
      ifindex: 42, endpointId: 22, mac: '0a:00:00:00:00:22', nodeMac: '0a:00:00:00:00:01', identity: 2000,
    });
    const r = dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, syn));
    expect(r.retval).toBe(TC_ACT_REDIRECT);
    expect(r.mark).toBe(identityMark(1000));
    expect(r.data.subarray(0, 12).toString('hex')).toBe('0a00000000220a0000000001');

    // The peer's own program takes the identity from the mark.
    const peer = dp.endpoint({ id: 22, identity: 2000, ips: [PEER], noTailCall: true });
    peer.writePolicy([{ identity: 1000, direction: 'ingress' }]);
    expect(dp.run(peer, 'cil_to_container', r.data, r.mark).retval).toBe(TC_ACT_OK);
    expect(dp.run(peer, 'cil_to_container', tcp(POD, PEER, 40001, 80, syn), identityMark(1001)).retval).toBe(TC_ACT_SHOT);
  });

  it('sends traffic for pods behind another node to the tunnel device', () => {
    ep.writePolicy([{ identity: 0, direction: 'egress' }]);
    const r = dp.run(ep, 'cil_from_container', tcp(POD, '10.0.5.9', 40000, 80, syn));
    expect(r.retval).toBe(TC_ACT_REDIRECT);
    expect(r.mark).toBe(identityMark(1000));
  });

  it('answers ARP requests from the pod with the node MAC and passes other ARP on', () => {
    const arp = dp.endpoint({ id: 24, identity: 1000, ips: ['10.0.0.10'], nodeMac: '0a:00:00:00:00:01' });
    const request = Buffer.from(
      'ffffffffffff' + '02000000000a' + '0806' + '0001' + '0800' + '06' + '04' + '0001' +
      '02000000000a' + '0a00000a' + '000000000000' + 'a9fe0101', 'hex');
    const r = dp.run(arp, 'cil_from_container', request);
    expect(r.retval).toBe(TC_ACT_REDIRECT);
    expect(r.data.subarray(0, 42).toString('hex')).toBe(
      '02000000000a' + '0a0000000001' + '0806' + '0001' + '0800' + '06' + '04' + '0002' +
      '0a0000000001' + 'a9fe0101' + '02000000000a' + '0a00000a');
    const reply = Buffer.from(request);
    reply.writeUInt16BE(2, 20);
    expect(dp.run(arp, 'cil_from_container', reply).retval).toBe(TC_ACT_OK);
    // The same endpoint registered without a node MAC: to the stack.
    dp.endpoint({ id: 24, identity: 1000, ips: ['10.0.0.10'] });
    expect(dp.run(arp, 'cil_from_container', request).retval).toBe(TC_ACT_OK);
  });

  it('hands everything else to the stack', () => {
    ep.writePolicy([{ identity: 0, direction: 'egress' }]);
    expect(dp.run(ep, 'cil_from_container', tcp(POD, '192.0.2.1', 40000, 80, syn)).retval).toBe(TC_ACT_OK);
  });
});

describe('overlay and host programs', () => {
  it('encapsulates with a tunnel key for known remote pods and drops the rest', () => {
    const overlay = dp.load('bpf_overlay');
    upsertIpcache(dp.map('cilium_ipcache'), `${POD}/32`, { identity: 1000 });
    expect(dp.run(overlay, 'cil_to_overlay', tcp(POD, '10.0.5.9', 40000, 80, syn), identityMark(1000)).retval).toBe(TC_ACT_OK);
    expect(dp.run(overlay, 'cil_to_overlay', tcp(POD, '192.0.2.1', 40000, 80, syn)).retval).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.noTunnelEndpoint, 'egress').count).toBe(1n);
  });

  it('refuses decapsulated packets that carry no identity', () => {
    const overlay = dp.load('bpf_overlay');
    expect(dp.run(overlay, 'cil_from_overlay', tcp('10.0.5.9', POD, 80, 40000, syn)).retval).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.invalidVni, 'ingress').count).toBe(1n);
  });

  it('classifies packets from the network by the ipcache, never as the host', () => {
    const host = dp.load('bpf_host');
    upsertIpcache(dp.map('cilium_ipcache'), '192.168.1.2/32', { identity: 6 });
    upsertIpcache(dp.map('cilium_ipcache'), '192.168.1.1/32', { identity: 1 });
    expect(dp.run(host, 'cil_from_netdev', tcp('192.168.1.2', POD, 1, 80)).mark).toBe(identityMark(6));
    expect(dp.run(host, 'cil_from_netdev', tcp('192.168.1.1', POD, 1, 80)).mark).toBe(identityMark(2));
    expect(dp.run(host, 'cil_from_netdev', tcp('198.51.100.1', POD, 1, 80)).mark).toBe(identityMark(2));
    expect(dp.run(host, 'cil_from_netdev', tcp(PEER, POD, 1, 80)).mark).toBe(identityMark(2000));
  });
});
