// Hubble through the relay: filtered flows per second from two servers to a client, and event-to-client
// latency with follow. Baselines from the same run: the same calls straight to one server.
// Everything but the CLI row runs in this process (servers, relay, client), so the figures include
// their sharing one event loop. Run with `npm run bench` after `npm run build`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { PeerRegistry, createHubbleTransport, startHubbleServer, timestampToMs, type HubbleServer } from '@cilium-ts/hubble';
import { testObserver } from '@cilium-ts/hubble/testing';
import { FlowFilterSchema, GetFlowsRequestSchema, Observer, Verdict, type GetFlowsRequest } from '@cilium-ts/proto';
import { startHubbleRelay } from '../relay-server.js';

const CAPACITY = 65_535;
const ALL = 2n ** 64n - 1n;
const forwardedOnly = create(FlowFilterSchema, { verdict: [Verdict.FORWARDED] });

async function countFlows(address: string, request: GetFlowsRequest): Promise<{ flows: number; seconds: number }> {
  const t = createHubbleTransport(address);
  const started = process.hrtime.bigint();
  let flows = 0;
  try {
    for await (const r of createClient(Observer, t.transport).getFlows(request)) if (r.responseTypes.case === 'flow') flows++;
  } finally {
    t.close();
  }
  return { flows, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

// Follows `address` while `write` produces `total` flows at `perSecond`; latency = arrival - flow time.
async function followLatency(address: string, write: (time: number, i: number) => void, total: number, perSecond: number): Promise<{ p50: number; p99: number; received: number }> {
  const t = createHubbleTransport(address);
  const abort = new AbortController();
  const latencies: number[] = [];
  const reading = (async () => {
    for await (const r of createClient(Observer, t.transport).getFlows({ follow: true, whitelist: [forwardedOnly] }, { signal: abort.signal })) {
      if (r.responseTypes.case !== 'flow' || !r.time) continue;
      latencies.push(Date.now() - timestampToMs(r.time));
      if (latencies.length >= total) abort.abort();
    }
  })().catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  const batch = Math.max(1, Math.round(perSecond / 100));
  for (let i = 0; i < total; ) {
    for (let k = 0; k < batch && i < total; k++, i++) write(Date.now(), i);
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.race([reading, new Promise((r) => setTimeout(r, 5000))]);
  abort.abort();
  t.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), received: latencies.length };
}

function runCli(args: string[]): Promise<{ flows: number; seconds: number } | undefined> {
  const here = dirname(fileURLToPath(import.meta.url));
  const bin = join(here, '..', '..', '..', 'cli', 'bin', 'hubble.js');
  if (!existsSync(join(here, '..', '..', '..', 'cli', 'dist', 'hubble.js'))) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let lines = 0;
    child.stdout.on('data', (b: Buffer) => {
      for (const c of b) if (c === 10) lines++;
    });
    child.on('close', () => resolve({ flows: lines, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
  });
}

async function main(): Promise<void> {
  const peers = new PeerRegistry();
  const nodes = [testObserver('k8s1', CAPACITY), testObserver('k8s2', CAPACITY)];
  const t0 = Date.now() - 600_000;
  // Every fourth flow is a drop, so the filter keeps three in four.
  nodes.forEach((n, i) => {
    for (let j = 0; j < CAPACITY; j++) n.udp(t0 + j * 5 + i, 1024 + (j % 50_000), j % 4 === 3 ? 'dropped' : 'forwarded');
  });
  const servers: HubbleServer[] = [];
  for (const [i, n] of nodes.entries()) servers.push(await startHubbleServer({ observer: n.observer, nodeName: `k8s${i + 1}`, version: 'bench', peers, tcp: { host: '127.0.0.1', port: 0 } }));
  servers.forEach((s, i) => peers.set({ name: `k8s${i + 1}`, address: s.address }));
  const relay = await startHubbleRelay({ listen: { host: '127.0.0.1', port: 0 }, peerService: servers[0]?.address ?? '', version: 'bench', nodeName: 'relay', backoffMinMs: 100 });
  while (relay.peers().filter((p) => p.available).length < 2) await new Promise((r) => setTimeout(r, 20));
  const relayAddress = `127.0.0.1:${relay.address.port}`;

  const rows: [string, string, string][] = [];
  const rate = (r: { flows: number; seconds: number }) => `${Math.round(r.flows / r.seconds).toLocaleString('en-US')} flows/s`;
  const request = create(GetFlowsRequestSchema, { number: ALL, whitelist: [forwardedOnly] });
  await countFlows(relayAddress, request); // warm-up
  const direct = await countFlows(servers[0]?.address ?? '', request);
  rows.push(['baseline: 1 server -> client, filter verdict=FORWARDED', `${direct.flows} flows`, rate(direct)]);
  const relayed = await countFlows(relayAddress, request);
  rows.push(['2 servers -> relay (merge) -> client, same filter', `${relayed.flows} flows`, `${rate(relayed)} (target 50,000)`]);
  const cli = await runCli(['observe', '--server', relayAddress, '--all', '--verdict', 'FORWARDED', '-o', 'compact']);
  if (cli) rows.push(['2 servers -> relay -> hubble observe (process, compact)', `${cli.flows} lines`, rate(cli)]);

  const write = (node: (typeof nodes)[number]) => (time: number, i: number) => node.udp(time, 1024 + (i % 1000));
  const total = 4000;
  const directLatency = await followLatency(servers[0]?.address ?? '', write(nodes[0] as (typeof nodes)[number]), total, 2000);
  rows.push(['baseline: follow 1 server, 2,000 events/s', `${directLatency.received} flows`, `p50 ${directLatency.p50} ms, p99 ${directLatency.p99} ms`]);
  const both = (time: number, i: number) => write(nodes[i % 2] as (typeof nodes)[number])(time, i);
  const relayLatency = await followLatency(relayAddress, both, total, 2000);
  rows.push(['follow via relay, 2 servers, 2,000 events/s', `${relayLatency.received} flows`, `p50 ${relayLatency.p50} ms, p99 ${relayLatency.p99} ms (target p99 < 250)`]);
  const slowLatency = await followLatency(relayAddress, both, 200, 100);
  rows.push(['follow via relay, 2 servers, 100 events/s', `${slowLatency.received} flows`, `p50 ${slowLatency.p50} ms, p99 ${slowLatency.p99} ms`]);

  await relay.close();
  await Promise.all(servers.map((s) => s.close()));
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`${'case'.padEnd(w[0] ?? 0)}  ${'count'.padEnd(w[1] ?? 0)}  result`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0] ?? 0)}  ${b.padEnd(w[1] ?? 0)}  ${c}`);
}

await main();
