// Real traffic between pods on one node through the endpoint programs:
// TCP, UDP and ICMP, allowed and denied by identity-based policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TcLink } from '@cilium-ts/datapath-native';
import { upsertIpcache } from '../src/map-writers.js';
import { TestDatapath } from '../src/testing/datapath-harness.js';
import { IPPROTO } from '../src/testing/packet-builder.js';
import { NetnsLab } from '../src/testing/netns-lab.js';
import { type LabPod, attachEndpoint } from '../src/testing/lab-endpoint.js';

let lab: NetnsLab;
let dp: TestDatapath;
const links: TcLink[] = [];
let a: LabPod;
let b: LabPod;
let c: LabPod;
let node: string;
const NODE_IP = '10.210.255.1';

beforeAll(async () => {
  lab = new NetnsLab();
  dp = new TestDatapath();
  try {
    node = lab.netns('node');
    lab.router(node);
    // The node's own address, known to the ipcache as the host identity.
    lab.exec(node, ['ip', 'addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
    a = attachEndpoint(lab, dp, links, node, { role: 'a', ip: '10.210.0.10', id: 101, identity: 1000 });
    b = attachEndpoint(lab, dp, links, node, { role: 'b', ip: '10.210.0.11', id: 102, identity: 2000 });
    c = attachEndpoint(lab, dp, links, node, { role: 'c', ip: '10.210.0.12', id: 103, identity: 3000 });
    for (const p of [a, b, c]) upsertIpcache(dp.map('cilium_ipcache'), `${p.ip}/32`, { identity: p.identity });
    upsertIpcache(dp.map('cilium_ipcache'), `${NODE_IP}/32`, { identity: 1 });
    for (const p of [a, c]) p.endpoint.writePolicy([{ identity: 0, direction: 'egress' }]);
    // b accepts TCP 8080, UDP 9090 and ping from a only; nothing from c. Its egress is closed.
    b.endpoint.writePolicy([
      { identity: 1000, direction: 'ingress', protocol: IPPROTO.tcp, port: 8080 },
      { identity: 1000, direction: 'ingress', protocol: IPPROTO.udp, port: 9090 },
      { identity: 1000, direction: 'ingress', protocol: IPPROTO.icmp, port: 8 },
      { identity: 1, direction: 'ingress', protocol: IPPROTO.icmp, port: 8 },
    ]);
    a.endpoint.writePolicy([
      { identity: 0, direction: 'egress' },
      { identity: 0, direction: 'ingress', protocol: IPPROTO.tcp, port: 8080 },
    ]);
    await lab.serve(b.ns, [8080, 8081], [9090]);
    await lab.serve(a.ns, [8080], []);
    dp.watchEvents();
  } catch (err) {
    for (const l of links) l.detach();
    lab.close();
    await dp.close();
    throw err;
  }
}, 60_000);

afterAll(async () => {
  try {
    for (const l of links) l.detach();
  } finally {
    lab.close();
    await dp.close();
  }
});

describe('pods on one node', () => {
  it('connects over TCP where ingress policy allows it', () => {
    expect(lab.probe(a.ns, 'tcp', b.ip, 8080)).toBe('connected');
  });

  it('drops TCP to a port the policy does not allow', () => {
    expect(lab.probe(a.ns, 'tcp', b.ip, 8081)).toBe('failed');
  });

  it('drops TCP from an identity the policy does not allow, and says so in a drop event', async () => {
    expect(lab.probe(c.ns, 'tcp', b.ip, 8080)).toBe('failed');
    await expect.poll(() => dp.events.find((e) => e.kind === 'drop' && e.srcIdentity === 3000)).toMatchObject({
      reason: 133, dstIdentity: 2000, source: 102, direction: 'ingress',
    });
  });

  it('carries UDP request and reply', () => {
    expect(lab.probe(a.ns, 'udp', b.ip, 9090)).toBe('connected');
    expect(lab.probe(c.ns, 'udp', b.ip, 9090)).toBe('failed');
  });

  it('answers ping from an allowed peer only', () => {
    expect(lab.ping(a.ns, b.ip)).toBe(true);
    expect(lab.ping(c.ns, b.ip)).toBe(false);
  });

  it('keeps the reverse direction closed: b cannot open connections to a', () => {
    expect(lab.probe(b.ns, 'tcp', a.ip, 8080)).toBe('failed');
  });

  it('classifies traffic from the node itself as the host identity', () => {
    expect(lab.ping(node, b.ip)).toBe(true);
    expect(lab.probe(node, 'tcp', b.ip, 8080)).toBe('failed');
  });

  it('counts forwarded and denied packets', () => {
    expect(dp.metric(0, 'ingress').count).toBeGreaterThan(0n);
    expect(dp.metric(133, 'ingress').count).toBeGreaterThan(0n);
  });
});
