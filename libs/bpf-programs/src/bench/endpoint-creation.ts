// What creating an endpoint costs in the datapath: registering it in the node's maps (endpoint entry,
// tail-call slot, a policy map swapped in) and attaching the node's programs to its veth, against one load of
// the endpoint programs (the verifier run every endpoint paid when each loaded its own copy), in the same run.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { TcLink } from '@cilium-ts/datapath-native';
import { EndpointPrograms } from '../endpoint-programs.js';
import type { PolicyRuleEntry } from '../policy-entries.js';
import { NetnsLab } from '../testing/netns-lab.js';

const REGISTRATIONS = Number(process.env.BENCH_REGISTRATIONS ?? 500);
const VETHS = Number(process.env.BENCH_VETHS ?? 10);

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/** A typical endpoint policy: a few peers and ports in both directions. */
function policy(i: number): PolicyRuleEntry[] {
  return [
    { identity: 0, direction: 'egress', protocol: 17, port: 53 },
    { identity: 2000 + (i % 7), direction: 'egress', protocol: 6, port: 8080, endPort: 8090 },
    { identity: 3000, direction: 'egress' },
    { identity: 1, direction: 'ingress' },
    { identity: 4000 + (i % 5), direction: 'ingress', protocol: 6, port: 80 },
    { identity: 4000 + (i % 5), direction: 'ingress', protocol: 6, port: 443 },
  ];
}

function ipOf(i: number): string {
  return `10.250.${(i >> 8) & 0xff}.${i & 0xff}`;
}

export function endpointCreationBench(): void {
  const pinRoot = `/sys/fs/bpf/cts-bench-${randomBytes(4).toString('hex')}`;
  const lab = new NetnsLab();
  const links: TcLink[] = [];
  const loads: EndpointPrograms[] = [];
  try {
    const loadMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = process.hrtime.bigint();
      loads.push(EndpointPrograms.load(pinRoot));
      loadMs.push(ms(start));
    }
    const programs = loads[0] as EndpointPrograms;

    const registerMs: number[] = [];
    for (let i = 1; i <= REGISTRATIONS; i++) {
      const start = process.hrtime.bigint();
      programs.registerEndpoint({ id: i, ips: [ipOf(i)], ifindex: 100 + i, mac: '02:00:00:00:00:01', identity: 10_000 + i }, policy(i));
      registerMs.push(ms(start));
    }
    const policyMs: number[] = [];
    for (let i = 1; i <= REGISTRATIONS; i++) {
      const start = process.hrtime.bigint();
      programs.writePolicy(i, policy(i + 1));
      policyMs.push(ms(start));
    }
    const unregisterMs: number[] = [];
    for (let i = 1; i <= REGISTRATIONS; i++) {
      const start = process.hrtime.bigint();
      programs.unregisterEndpoint(i, [ipOf(i)]);
      unregisterMs.push(ms(start));
    }

    const node = lab.netns('cnode');
    const attachMs: number[] = [];
    for (let i = 1; i <= VETHS; i++) {
      const pod = lab.pod(node, `c${i}`, ipOf(1000 + i));
      const start = process.hrtime.bigint();
      programs.registerEndpoint({ id: 1000 + i, ips: [ipOf(1000 + i)], ifindex: pod.ifindex, mac: pod.mac, nodeMac: pod.nodeMac, identity: 20_000 + i }, policy(i));
      links.push(...programs.attach(pod.hostDev, { netns: lab.path(node) }));
      attachMs.push(ms(start));
    }

    const load = median(loadMs);
    const rows: Array<[string, number]> = [
      ['load of the endpoint programs (once per node; before: once per endpoint)', load],
      [`register an endpoint with a 6-rule policy (median of ${REGISTRATIONS})`, median(registerMs)],
      [`replace an endpoint's policy (median of ${REGISTRATIONS})`, median(policyMs)],
      [`unregister an endpoint (median of ${REGISTRATIONS})`, median(unregisterMs)],
      [`register + attach to its veth (median of ${VETHS})`, median(attachMs)],
    ];
    console.log(`\nendpoint creation in the datapath (ms; program loads: median of 3, ${loadMs.map((x) => x.toFixed(0)).join(' / ')})`);
    const width = Math.max(...rows.map(([p]) => p.length));
    console.log(`| ${'step'.padEnd(width)} |       ms | vs load |`);
    console.log(`|${'-'.repeat(width + 2)}|----------|---------|`);
    for (const [path, value] of rows) {
      console.log(`| ${path.padEnd(width)} | ${value.toFixed(3).padStart(8)} | ${(value / load).toFixed(4).padStart(7)} |`);
    }
  } finally {
    for (const l of links) l.detach();
    lab.close();
    for (const p of loads) p.close();
    rmSync(pinRoot, { recursive: true, force: true });
  }
}
