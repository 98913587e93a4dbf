// TCP request/response rate between two pods on one node: through the
// endpoint programs, against the same pods joined by one plain veth, in
// interleaved rounds (medians), because the machine is shared and noisy.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TcLink } from '@cilium-ts/datapath-native';
import { upsertIpcache } from '../map-writers.js';
import { TestDatapath } from '../testing/datapath-harness.js';
import { attachEndpoint } from '../testing/lab-endpoint.js';
import { NetnsLab } from '../testing/netns-lab.js';

const RR = fileURLToPath(new URL('./tcp-rr.js', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function server(ns: string, port: number, children: ChildProcess[]): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, RR, 'server', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`tcp-rr server in ${ns} exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
  });
}

function client(ns: string, host: string, port: number, ms: number): number {
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, RR, 'client', host, String(port), String(ms)], { encoding: 'utf8' });
  return Number(out.trim());
}

export async function podToPodBench(rounds = 5, ms = 2000): Promise<void> {
  const lab = new NetnsLab();
  const dp = new TestDatapath();
  const links: TcLink[] = [];
  const children: ChildProcess[] = [];
  try {
    // Through the programs: two pods behind a node namespace.
    const node = lab.netns('bnode');
    lab.router(node);
    const a = attachEndpoint(lab, dp, links, node, { role: 'ra', ip: '10.240.0.10', id: 301, identity: 1000 });
    const b = attachEndpoint(lab, dp, links, node, { role: 'rb', ip: '10.240.0.11', id: 302, identity: 2000 });
    for (const p of [a, b]) upsertIpcache(dp.map('cilium_ipcache'), `${p.ip}/32`, { identity: p.identity });
    a.endpoint.writePolicy([{ identity: 0, direction: 'egress' }]);
    b.endpoint.writePolicy([{ identity: 1000, direction: 'ingress', protocol: 6, port: 7000 }]);
    await server(b.ns, 7000, children);

    // Plain: two namespaces on one veth.
    const p1 = lab.netns('plain1');
    const p2 = lab.netns('plain2');
    lab.exec(p1, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p2]);
    lab.exec(p1, ['ip', 'addr', 'add', '10.241.0.1/24', 'dev', 'eth0']);
    lab.exec(p2, ['ip', 'addr', 'add', '10.241.0.2/24', 'dev', 'eth0']);
    for (const ns of [p1, p2]) lab.exec(ns, ['ip', 'link', 'set', 'eth0', 'up']);
    await server(p2, 7000, children);

    client(a.ns, b.ip, 7000, 300); // warm up neighbours and conntrack
    client(p1, '10.241.0.2', 7000, 300);
    const plain: number[] = [];
    const through: number[] = [];
    const routed: number[] = [];
    const attach = () => {
      for (const p of [a, b]) links.push(...p.endpoint.programs.attach(p.hostDev, { netns: lab.path(node) }));
    };
    const detach = () => {
      for (const l of links.splice(0)) l.detach();
    };
    for (let i = 0; i < rounds; i++) {
      plain.push(client(p1, '10.241.0.2', 7000, ms));
      through.push(client(a.ns, b.ip, 7000, ms));
      detach();
      routed.push(client(a.ns, b.ip, 7000, ms));
      attach();
    }
    const mp = median(plain);
    const mt = median(through);
    const mr = median(routed);
    console.log(`\nTCP request/response between two pods (1-byte ping-pong, ${rounds} interleaved rounds of ${ms} ms, medians)`);
    console.log('| path | transactions/s | vs plain veth |');
    console.log('|------|----------------|---------------|');
    console.log(`| plain veth, no programs | ${mp} | 1.00 |`);
    console.log(`| two veths routed by the node, no programs | ${mr} | ${(mr / mp).toFixed(2)} |`);
    console.log(`| two veths through bpf_lxc (policy, conntrack, redirect) | ${mt} | ${(mt / mp).toFixed(2)} |`);
  } finally {
    for (const c of children) c.kill();
    for (const l of links) l.detach();
    lab.close();
    await dp.close();
  }
}
