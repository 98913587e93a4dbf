// Hubble through the relay: filtered flows per second from two servers to a client, and event-to-client
// latency with follow. The servers and the relay each run in a worker thread (their own event loop,
// as their own processes would); the client runs here. Baselines from the same run: the same calls
// straight to one server. Run with `npm run bench` after `npm run build`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { LazyObserver, createHubbleTransport, timestampToMs } from '@cilium-ts/hubble';
import { FlowFilterSchema, GetFlowsRequestSchema, Observer, Verdict, type GetFlowsRequest } from '@cilium-ts/proto';

const here = dirname(fileURLToPath(import.meta.url));
const CAPACITY = 65_535;
const ALL = 2n ** 64n - 1n;
const forwardedOnly = create(FlowFilterSchema, { verdict: [Verdict.FORWARDED] });

function startWorker(data: object): Promise<{ worker: Worker; address: string }> {
  const worker = new Worker(join(here, 'bench-worker.js'), { workerData: data });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { address: string }) => resolve({ worker, address: m.address }));
    worker.once('error', reject);
  });
}

// Counts the flows of one GetFlows call; `decode` false reads them the way the relay does (left encoded).
async function countFlows(address: string, request: GetFlowsRequest, decode: boolean): Promise<{ flows: number; seconds: number }> {
  const t = createHubbleTransport(address);
  const started = process.hrtime.bigint();
  let flows = 0;
  try {
    const stream = decode ? createClient(Observer, t.transport).getFlows(request) : createClient(LazyObserver, t.transport).getFlows(request);
    for await (const r of stream) if (r.responseTypes.case === 'flow') flows++;
  } finally {
    t.close();
  }
  return { flows, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

// Follows `address` while the producers write `total` flows in all at `perSecond` each; latency = arrival - flow time.
async function followLatency(address: string, producers: readonly Worker[], total: number, perSecond: number): Promise<{ p50: number; p99: number; received: number }> {
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
  // A server sends no headers before its first flow, so give the call a moment to be set up.
  await new Promise((r) => setTimeout(r, 500));
  for (const w of producers) w.postMessage({ produce: { total: total / producers.length, perSecond } });
  await Promise.race([reading, new Promise((r) => setTimeout(r, (total / producers.length / perSecond) * 1000 + 5000))]);
  abort.abort();
  t.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), received: latencies.length };
}

function runCli(args: string[]): Promise<{ flows: number; seconds: number } | undefined> {
  const cli = join(here, '..', '..', '..', 'cli');
  if (!existsSync(join(cli, 'dist', 'hubble.js'))) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [join(cli, 'bin', 'hubble.js'), ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let lines = 0;
    child.stdout.on('data', (b: Buffer) => {
      for (const c of b) if (c === 10) lines++;
    });
    child.on('close', () => resolve({ flows: lines, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
  });
}

async function main(): Promise<void> {
  const servers = await Promise.all(['k8s1', 'k8s2'].map((name) => startWorker({ role: 'server', name, capacity: CAPACITY, fill: CAPACITY })));
  const relay = await startWorker({ role: 'relay', peers: servers.map((s, i) => ({ name: `k8s${i + 1}`, address: s.address })) });
  const one = servers[0]?.address ?? '';

  const rows: [string, string, string][] = [];
  const progress = (what: string) => console.error(`bench: ${what}`);
  progress(`servers ${servers.map((s) => s.address).join(', ')}, relay ${relay.address}`);
  const rate = (r: { flows: number; seconds: number }) => `${Math.round(r.flows / r.seconds).toLocaleString('en-US')} flows/s`;
  const request = create(GetFlowsRequestSchema, { number: ALL, whitelist: [forwardedOnly] });
  progress('warm-up');
  await countFlows(relay.address, request, false);
  const direct = await countFlows(one, request, true);
  rows.push(['baseline: 1 server -> client (decoding), verdict=FORWARDED', `${direct.flows} flows`, rate(direct)]);
  const directLazy = await countFlows(one, request, false);
  rows.push(['baseline: 1 server -> client (flows left encoded)', `${directLazy.flows} flows`, rate(directLazy)]);
  const relayedLazy = await countFlows(relay.address, request, false);
  rows.push(['2 servers -> relay -> client (flows left encoded)', `${relayedLazy.flows} flows`, `${rate(relayedLazy)} (target 50,000)`]);
  const relayed = await countFlows(relay.address, request, true);
  rows.push(['2 servers -> relay -> client (decoding)', `${relayed.flows} flows`, rate(relayed)]);
  const cli = await runCli(['observe', '--server', relay.address, '--all', '--verdict', 'FORWARDED', '-o', 'compact']);
  if (cli) rows.push(['2 servers -> relay -> `hubble observe --all` (process)', `${cli.flows} lines`, rate(cli)]);

  progress('latency');
  const workers = servers.map((s) => s.worker);
  const directLatency = await followLatency(one, [workers[0] as Worker], 4000, 2000);
  rows.push(['baseline: follow 1 server, 2,000 events/s', `${directLatency.received} flows`, `p50 ${directLatency.p50} ms, p99 ${directLatency.p99} ms`]);
  const relayLatency = await followLatency(relay.address, workers, 8000, 2000);
  rows.push(['follow via relay, 2 servers x 2,000 events/s', `${relayLatency.received} flows`, `p50 ${relayLatency.p50} ms, p99 ${relayLatency.p99} ms (target p99 < 250)`]);
  const slowLatency = await followLatency(relay.address, workers, 400, 50);
  rows.push(['follow via relay, 2 servers x 50 events/s', `${slowLatency.received} flows`, `p50 ${slowLatency.p50} ms, p99 ${slowLatency.p99} ms`]);

  for (const w of [relay, ...servers]) w.worker.postMessage({ close: true });
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`${'case'.padEnd(w[0] ?? 0)}  ${'count'.padEnd(w[1] ?? 0)}  result`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0] ?? 0)}  ${b.padEnd(w[1] ?? 0)}  ${c}`);
}

await main();
