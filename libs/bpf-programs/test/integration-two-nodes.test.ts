// Real traffic between pods on two nodes joined by a veth underlay, over a
// VXLAN overlay (identity in the VNI) and over native routing (identity from
// the ipcache). Each node has its own pin root, as two agents would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TcLink } from '@cilium-ts/datapath-native';
import { upsertIpcache } from '../src/map-writers.js';
import { TestDatapath } from '../src/testing/datapath-harness.js';
import { IPPROTO } from '../src/testing/packet-builder.js';
import { NetnsLab } from '../src/testing/netns-lab.js';
import { type LabPod, attachEndpoint } from '../src/testing/lab-endpoint.js';

const UNDERLAY = ['192.168.250.1', '192.168.250.2'] as const;
const POD_A = '10.220.1.10';
const POD_B = '10.220.2.10';

interface TwoNodes {
  lab: NetnsLab;
  dps: [TestDatapath, TestDatapath];
  links: TcLink[];
  a: LabPod;
  b: LabPod;
}

async function teardown(t: Partial<TwoNodes>): Promise<void> {
  try {
    for (const l of t.links ?? []) l.detach();
  } finally {
    t.lab?.close();
    for (const dp of t.dps ?? []) await dp.close();
  }
}

/** node1 hosts a (identity 1000), node2 hosts b (identity 2000). */
async function twoNodes(mode: 'vxlan' | 'native', ipcacheIdentityOfA: number): Promise<TwoNodes> {
  const t: Partial<TwoNodes> = { lab: new NetnsLab(), dps: [new TestDatapath(), new TestDatapath()], links: [] };
  const lab = t.lab as NetnsLab;
  const dps = t.dps as [TestDatapath, TestDatapath];
  const links = t.links as TcLink[];
  try {
    const n1 = lab.netns('n1');
    const n2 = lab.netns('n2');
    for (const n of [n1, n2]) lab.router(n);
    joinUnderlay(lab, n1, n2);
    const tunnel: Array<number | undefined> = [undefined, undefined];
    for (const [i, n] of [n1, n2].entries()) {
      const dp = dps[i] as TestDatapath;
      if (mode === 'vxlan') {
        lab.exec(n, ['ip', 'link', 'add', 'vx0', 'type', 'vxlan', 'external', 'dstport', '8472']);
        lab.exec(n, ['ip', 'link', 'set', 'vx0', 'up']);
        tunnel[i] = lab.ifindex(n, 'vx0');
        const overlay = dp.load('bpf_overlay');
        links.push(overlay.program('cil_to_overlay').attachTc('vx0', 'egress', { netns: lab.path(n) }));
        links.push(overlay.program('cil_from_overlay').attachTc('vx0', 'ingress', { netns: lab.path(n) }));
      } else {
        const host = dp.load('bpf_host');
        links.push(host.program('cil_from_netdev').attachTc('ul0', 'ingress', { netns: lab.path(n) }));
      }
    }
    const tunnelOpt = (i: number) => (tunnel[i] === undefined ? {} : { tunnelIfindex: tunnel[i] as number });
    const a = attachEndpoint(lab, dps[0], links, n1, { role: 'a', ip: POD_A, id: 201, identity: 1000, ...tunnelOpt(0) });
    const b = attachEndpoint(lab, dps[1], links, n2, { role: 'b', ip: POD_B, id: 202, identity: 2000, ...tunnelOpt(1) });
    const viaTunnel = (ip: string) => (mode === 'vxlan' ? { tunnelEndpoint: ip } : {});
    upsertIpcache(dps[0].map('cilium_ipcache'), `${POD_A}/32`, { identity: 1000 });
    upsertIpcache(dps[0].map('cilium_ipcache'), '10.220.2.0/24', { identity: 2000, ...viaTunnel(UNDERLAY[1]) });
    upsertIpcache(dps[1].map('cilium_ipcache'), `${POD_B}/32`, { identity: 2000 });
    upsertIpcache(dps[1].map('cilium_ipcache'), '10.220.1.0/24', { identity: ipcacheIdentityOfA, ...viaTunnel(UNDERLAY[0]) });
    for (const [i, n] of [n1, n2].entries()) {
      upsertIpcache((dps[i] as TestDatapath).map('cilium_ipcache'), `${UNDERLAY[1 - i]}/32`, { identity: 6 });
      if (mode === 'native') {
        lab.exec(n, ['ip', 'route', 'add', i === 0 ? '10.220.2.0/24' : '10.220.1.0/24', 'via', UNDERLAY[1 - i] as string]);
      }
    }
    a.endpoint.writePolicy([{ identity: 0, direction: 'egress' }]);
    b.endpoint.writePolicy([
      { identity: 1000, direction: 'ingress', protocol: IPPROTO.tcp, port: 8080 },
      { identity: 1000, direction: 'ingress', protocol: IPPROTO.udp, port: 9090 },
      { identity: 1000, direction: 'ingress', protocol: IPPROTO.icmp, port: 8 },
    ]);
    await lab.serve(b.ns, [8080, 8081], [9090]);
    return { lab, dps, links, a, b };
  } catch (err) {
    await teardown(t);
    throw err;
  }
}

function joinUnderlay(lab: NetnsLab, n1: string, n2: string): void {
  lab.exec(n1, ['ip', 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul0', 'netns', n2]);
  for (const [i, n] of [n1, n2].entries()) {
    lab.exec(n, ['ip', 'addr', 'add', `${UNDERLAY[i]}/24`, 'dev', 'ul0']);
    lab.exec(n, ['ip', 'link', 'set', 'ul0', 'up']);
  }
}

describe('two nodes over a VXLAN overlay', () => {
  let t: TwoNodes;
  // node2's ipcache deliberately holds a wrong identity for a's prefix: only
  // the identity carried in the VNI lets b's ingress policy allow a.
  beforeAll(async () => {
    t = await twoNodes('vxlan', 4242);
  }, 60_000);
  afterAll(async () => {
    await teardown(t ?? {});
  });

  it('connects allowed TCP, UDP and ICMP with the identity from the VNI', () => {
    expect(t.lab.probe(t.a.ns, 'tcp', POD_B, 8080)).toBe('connected');
    expect(t.lab.probe(t.a.ns, 'udp', POD_B, 9090)).toBe('connected');
    expect(t.lab.ping(t.a.ns, POD_B)).toBe(true);
  });

  it('drops TCP to a port the policy does not allow', () => {
    expect(t.lab.probe(t.a.ns, 'tcp', POD_B, 8081)).toBe('failed');
  });
});

describe('two nodes with native routing', () => {
  let t: TwoNodes;
  beforeAll(async () => {
    t = await twoNodes('native', 1000);
  }, 60_000);
  afterAll(async () => {
    await teardown(t ?? {});
  });

  it('connects allowed TCP, UDP and ICMP with the identity from the ipcache', () => {
    expect(t.lab.probe(t.a.ns, 'tcp', POD_B, 8080)).toBe('connected');
    expect(t.lab.probe(t.a.ns, 'udp', POD_B, 9090)).toBe('connected');
    expect(t.lab.ping(t.a.ns, POD_B)).toBe(true);
  });

  it('drops TCP to a port the policy does not allow', () => {
    expect(t.lab.probe(t.a.ns, 'tcp', POD_B, 8081)).toBe('failed');
  });

  it('treats a changed ipcache identity as a different peer for new connections', () => {
    upsertIpcache(t.dps[1].map('cilium_ipcache'), '10.220.1.0/24', { identity: 4242 });
    expect(t.lab.probe(t.a.ns, 'tcp', POD_B, 8080)).toBe('failed');
  });
});
