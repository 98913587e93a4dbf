// The endpoint program under BPF_PROG_TEST_RUN: policy by identity, port,
// port range and protocol; deny over allow; wildcard identity; L7 redirect.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DropReason } from '../src/codecs/events.js';
import { type PolicyRuleEntry } from '../src/policy-entries.js';
import { upsertIpcache } from '../src/map-writers.js';
import { TC_ACT_OK, TC_ACT_SHOT, TestDatapath, type TestEndpoint } from '../src/testing/datapath-harness.js';
import { IPPROTO, TCP_FLAGS, packet, tcp, udp } from '../src/testing/packet-builder.js';

const POD = '10.0.0.1';
const PEER = '10.0.0.2';        // identity 2000
const OTHER = '10.0.1.7';       // identity 3000 (a /24)
const SYN = TCP_FLAGS.syn;

let dp: TestDatapath;
let ep: TestEndpoint;

function policy(rules: PolicyRuleEntry[]): void {
  ep.writePolicy(rules);
}
const egress = (data: Buffer) => dp.run(ep, 'cil_from_container', data).retval;

beforeEach(() => {
  dp = new TestDatapath();
  ep = dp.endpoint({ id: 11, identity: 1000, ips: [POD] });
  upsertIpcache(dp.map('cilium_ipcache'), `${PEER}/32`, { identity: 2000 });
  upsertIpcache(dp.map('cilium_ipcache'), '10.0.1.0/24', { identity: 3000 });
  upsertIpcache(dp.map('cilium_ipcache'), 'fd00::2', { identity: 2000 });
});
afterEach(async () => {
  await dp.close();
});

describe('egress policy of an endpoint', () => {
  it('allows by peer identity and drops everything else (default deny) with reason 133', () => {
    policy([{ identity: 2000, direction: 'egress' }]);
    expect(egress(tcp(POD, PEER, 40000, 80, SYN))).toBe(TC_ACT_OK);
    expect(egress(tcp(POD, OTHER, 40000, 80, SYN))).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.policyDenied, 'egress').count).toBe(1n);
    expect(dp.metric(0, 'egress').count).toBe(1n);
  });

  it('allows by port and protocol', () => {
    policy([{ identity: 2000, direction: 'egress', protocol: IPPROTO.tcp, port: 80 }]);
    expect(egress(tcp(POD, PEER, 40000, 80, SYN))).toBe(TC_ACT_OK);
    expect(egress(tcp(POD, PEER, 40001, 81, SYN))).toBe(TC_ACT_SHOT);
    expect(egress(udp(POD, PEER, 40002, 80))).toBe(TC_ACT_SHOT);
  });

  it('allows a port range written as port/mask prefixes', () => {
    policy([{ identity: 2000, direction: 'egress', protocol: IPPROTO.udp, port: 8080, endPort: 8090 }]);
    for (const port of [8080, 8085, 8090]) expect(egress(udp(POD, PEER, 40000 + port, port))).toBe(TC_ACT_OK);
    for (const port of [8079, 8091]) expect(egress(udp(POD, PEER, 40000 + port, port))).toBe(TC_ACT_SHOT);
  });

  it('allows SCTP by port', () => {
    policy([{ identity: 2000, direction: 'egress', protocol: IPPROTO.sctp, port: 9000 }]);
    expect(egress(packet({ src: POD, dst: PEER, l4: { proto: 'sctp', sport: 5000, dport: 9000 } }))).toBe(TC_ACT_OK);
    expect(egress(packet({ src: POD, dst: PEER, l4: { proto: 'sctp', sport: 5000, dport: 9001 } }))).toBe(TC_ACT_SHOT);
  });

  it('lets a wildcard identity (0) match any peer', () => {
    policy([{ identity: 0, direction: 'egress', protocol: IPPROTO.tcp, port: 443 }]);
    expect(egress(tcp(POD, OTHER, 40000, 443, SYN))).toBe(TC_ACT_OK);
    expect(egress(tcp(POD, '192.0.2.1', 40000, 443, SYN))).toBe(TC_ACT_OK); // world, not in the ipcache
    expect(egress(tcp(POD, OTHER, 40001, 444, SYN))).toBe(TC_ACT_SHOT);
  });

  it('lets a deny rule win over any allow, with reason 181', () => {
    policy([
      { identity: 0, direction: 'egress' },
      { identity: 2000, direction: 'egress', protocol: IPPROTO.tcp, port: 80, deny: true },
      { identity: 3000, direction: 'egress', protocol: IPPROTO.tcp, port: 22 },
      { identity: 0, direction: 'egress', protocol: IPPROTO.tcp, port: 22, deny: true },
      { identity: 3000, direction: 'egress', protocol: IPPROTO.udp, port: 53 },
      { identity: 3000, direction: 'egress', protocol: IPPROTO.udp, deny: true },
    ]);
    expect(egress(tcp(POD, PEER, 40000, 80, SYN))).toBe(TC_ACT_SHOT);
    expect(egress(tcp(POD, PEER, 40001, 81, SYN))).toBe(TC_ACT_OK);
    expect(egress(tcp(POD, OTHER, 40002, 22, SYN))).toBe(TC_ACT_SHOT);
    expect(egress(udp(POD, OTHER, 40003, 53))).toBe(TC_ACT_SHOT);
    expect(dp.metric(DropReason.policyDenyRule, 'egress').count).toBe(3n);
  });

  it('reports an L7 rule as a redirect to its proxy port', async () => {
    dp.watchEvents();
    policy([{ identity: 2000, direction: 'egress', protocol: IPPROTO.tcp, port: 80, proxyPort: 15001 }]);
    const r = dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80, SYN));
    expect(r.retval).toBe(TC_ACT_OK);
    expect(r.mark).toBe(((15001 << 16) | 0x0200) >>> 0);
    await expect.poll(() => dp.events.find((e) => e.kind === 'policy-verdict')).toMatchObject({
      kind: 'policy-verdict', verdict: 15001, proxyPort: 15001, allowed: true, direction: 'egress',
      remoteIdentity: 2000, dstPort: 80, protocol: IPPROTO.tcp, matchType: 2,
    });
    await expect.poll(() => dp.events.find((e) => e.kind === 'trace')).toMatchObject({ observationPoint: 1 });
    // Later packets of the connection keep going to the proxy.
    expect(dp.run(ep, 'cil_from_container', tcp(POD, PEER, 40000, 80)).mark).toBe(((15001 << 16) | 0x0200) >>> 0);
  });
});

describe('ingress policy of an endpoint', () => {
  it('takes the sender identity from the ipcache, or from the mark a forwarding program set', () => {
    policy([{ identity: 2000, direction: 'ingress', protocol: IPPROTO.tcp, port: 80 }]);
    expect(dp.run(ep, 'cil_to_container', tcp(PEER, POD, 40000, 80, SYN)).retval).toBe(TC_ACT_OK);
    expect(dp.run(ep, 'cil_to_container', tcp(OTHER, POD, 40000, 80, SYN)).retval).toBe(TC_ACT_SHOT);
    // identity 2000 in the mark: 2000 << 16 | 0x0F00
    const mark = ((2000 << 16) | 0x0f00) >>> 0;
    expect(dp.run(ep, 'cil_to_container', tcp(OTHER, POD, 40001, 80, SYN), mark).retval).toBe(TC_ACT_OK);
    expect(dp.metric(DropReason.policyDenied, 'ingress').count).toBe(1n);
  });
});
