// Identity allocation benchmark: `npm run bench` (after build). Starts its own etcd.
//
// Allocators run as 3 separate processes (this file forked with `child`), as 3 agents would.
// Baseline in the same run: raw etcd put, get and txn rates through the same etcd3 client.
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { IdentityAllocator, type AllocatorStats } from '../allocator.js';
import { IdentityCache } from '../identity-cache.js';
import { Kvstore } from '../kvstore.js';
import { EtcdServer } from '../testing/etcd-server.js';

const ALLOCATORS = 3;
const LABEL_SETS = 1500;
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 32);
const RAW_OPS = 3000;
const LOOKUPS = 2_000_000;

interface Stats {
  ops: number;
  seconds: number;
  latenciesMs: number[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `count` async operations with at most `inFlight` outstanding; records each latency. */
async function drive(count: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<Stats> {
  const latenciesMs: number[] = [];
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await op(i);
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { ops: count, seconds: (performance.now() - start) / 1000, latenciesMs };
}

function labelSets(prefix: string, count: number): string[][] {
  return Array.from({ length: count }, (_, i) => [`k8s:app=${prefix}-${i}`, `k8s:io.kubernetes.pod.namespace=bench-${i % 13}`]);
}

// ---- child: one allocator node ----------------------------------------------------------------

async function runChild(endpoint: string, nodeName: string): Promise<void> {
  const kv = new Kvstore({ endpoints: endpoint, nodeName });
  const cache = new IdentityCache(kv);
  const allocator = new IdentityAllocator(kv, cache);
  await kv.leaseId();
  await cache.synced;
  let before = allocator.stats;
  process.on('message', async (msg: { sets: string[][] } | { exit: true }) => {
    if ('exit' in msg) {
      await cache.close();
      await kv.close();
      process.exit(0);
    }
    const created: number[] = [];
    const stats = await drive(msg.sets.length, IN_FLIGHT, async (i) => {
      const r = await allocator.allocate(msg.sets[i]!);
      if (r.isNew) created.push(r.identity.id);
    });
    const after = allocator.stats;
    const txns = Object.fromEntries(
      Object.entries(after).map(([k, v]) => [k, v - before[k as keyof AllocatorStats]]),
    ) as unknown as AllocatorStats;
    before = after;
    process.send!({ seconds: stats.seconds, latenciesMs: stats.latenciesMs, created: created.length, txns });
  });
  process.send!({ ready: true });
}

// ---- parent -----------------------------------------------------------------------------------

interface ChildResult {
  txns: AllocatorStats;
  seconds: number;
  latenciesMs: number[];
  created: number;
}

function message<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`bench allocator exited with ${code}`)));
  });
}

async function racingRound(children: ChildProcess[], setsFor: (i: number) => string[][]) {
  const replies = children.map((c) => message<ChildResult>(c));
  const start = performance.now();
  children.forEach((c, i) => c.send({ sets: setsFor(i) }));
  const results = await Promise.all(replies);
  const wall = (performance.now() - start) / 1000;
  const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const calls = latencies.length;
  const created = results.reduce((s, r) => s + r.created, 0);
  const txns = results.reduce(
    (sum, r) => ({
      created: sum.created + r.txns.created,
      createConflicts: sum.createConflicts + r.txns.createConflicts,
      referenced: sum.referenced + r.txns.referenced,
      referenceConflicts: sum.referenceConflicts + r.txns.referenceConflicts,
      etcdTxns: sum.etcdTxns + r.txns.etcdTxns,
    }),
    { created: 0, createConflicts: 0, referenced: 0, referenceConflicts: 0, etcdTxns: 0 },
  );
  return { wall, calls, created, txns, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

function row(cells: Array<string | number>): string {
  const widths = [58, 14, 12, 12];
  return cells.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join('');
}

async function runParent(): Promise<void> {
  const etcd = await EtcdServer.start();
  const children: ChildProcess[] = [];
  const kv = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'bench' });
  try {
    const lines: string[] = [row(['measurement', 'ops/s', 'p50 ms', 'p99 ms'])];
    const fmt = (n: number) => n.toFixed(2);

    // Baseline: the same etcd3 client, raw operations.
    await kv.leaseId();
    const put = await drive(RAW_OPS, IN_FLIGHT * ALLOCATORS, (i) =>
      kv.client.kv.put({ key: Buffer.from(`bench/raw/${i}`), value: Buffer.from('v') }),
    );
    const get = await drive(RAW_OPS, IN_FLIGHT * ALLOCATORS, (i) => kv.client.kv.range({ key: Buffer.from(`bench/raw/${i}`) }));
    const txn = await drive(RAW_OPS, IN_FLIGHT * ALLOCATORS, (i) =>
      kv.txn('bench', [{ kind: 'absent', key: `bench/txn/${i}` }], [{ kind: 'put', key: `bench/txn/${i}`, value: 'v' }]),
    );
    for (const [name, s] of [
      ['baseline: etcd put (1 client, 96 in flight)', put],
      ['baseline: etcd get (1 client, 96 in flight)', get],
      ['baseline: etcd txn create-if-absent (96 in flight)', txn],
    ] as const) {
      const sorted = [...s.latenciesMs].sort((a, b) => a - b);
      lines.push(row([name, Math.round(s.ops / s.seconds), fmt(percentile(sorted, 50)), fmt(percentile(sorted, 99))]));
    }

    const script = fileURLToPath(import.meta.url);
    for (let i = 0; i < ALLOCATORS; i++) {
      const child = fork(script, ['child', etcd.endpoint, `bench-node-${i + 1}`], { execArgv: [] });
      children.push(child);
      await message(child);
    }

    // Racing: all 3 allocate the same new label sets, each in its own order.
    const shared = labelSets('race', LABEL_SETS);
    const race = await racingRound(children, (i) => (i === 0 ? shared : i === 1 ? [...shared].reverse() : [...shared.slice(LABEL_SETS / 2), ...shared.slice(0, LABEL_SETS / 2)]));
    lines.push(row([`new-identity allocations, 3 processes racing (${race.calls})`, Math.round(race.calls / race.wall), fmt(race.p50), fmt(race.p99)]));
    lines.push(row([`  distinct identities created (${race.created})`, Math.round(race.created / race.wall), '', '']));
    const t = race.txns;
    lines.push(row([`  ${t.created} created, ${t.createConflicts} lost races, ${t.referenced} references, ${t.referenceConflicts} retried`, '', '', '']));
    lines.push(row([`  in ${t.etcdTxns} etcd transactions (group commit)`, Math.round(t.etcdTxns / race.wall), '', '']));

    // Disjoint: each allocator creates its own new label sets.
    const disjoint = await racingRound(children, (i) => labelSets(`node${i}`, LABEL_SETS));
    lines.push(row([`new-identity allocations, 3 processes, disjoint (${disjoint.calls})`, Math.round(disjoint.created / disjoint.wall), fmt(disjoint.p50), fmt(disjoint.p99)]));

    // Cached lookups, in this process, once the cache has seen everything.
    const cache = new IdentityCache(kv);
    await cache.synced;
    const known = cache.identities();
    const ids = known.map((k) => k.id);
    const strings = known.map((k) => k.labelString);
    const arrays = known.map((k) => [...k.labels].reverse());
    let hits = 0;
    const time = (fn: (i: number) => unknown) => {
      const t0 = performance.now();
      for (let i = 0; i < LOOKUPS; i++) if (fn(i)) hits++;
      return LOOKUPS / ((performance.now() - t0) / 1000);
    };
    const byId = time((i) => cache.lookupById(ids[i % ids.length]!));
    const byString = time((i) => cache.lookupByLabels(strings[i % strings.length]!));
    const lookupsOk = byId > 1e6 && byString > 1e6;
    lines.push(row([`cached lookup by id (${known.length} identities)`, Math.round(byId), '', '']));
    lines.push(row(['cached lookup by label string', Math.round(byString), '', '']));
    lines.push(row(['cached lookup by label array (canonicalised)', Math.round(time((i) => cache.lookupByLabels(arrays[i % arrays.length]!))), '', '']));
    if (hits !== 3 * LOOKUPS) throw new Error(`bench: ${3 * LOOKUPS - hits} cached lookups missed`);
    await cache.close();

    console.log(`identity allocation benchmark (etcd ${etcd.endpoint}, ${ALLOCATORS} allocator processes, ${IN_FLIGHT} in flight each)`);
    console.log(lines.join('\n'));
    // An allocation is one allocate() call for labels new to the cluster when the round started;
    // racing on the same labels, each identity costs three of them (one reference per node).
    const allocationsOk = race.calls / race.wall >= 500;
    console.log(`target >= 500 new-identity allocations/s across 3 racing allocators: ${allocationsOk ? 'met' : 'NOT met'}`);
    console.log(`target > 1M cached lookups/s (by id and by label string): ${lookupsOk ? 'met' : 'NOT met'}`);
  } finally {
    for (const child of children) child.send({ exit: true });
    await new Promise((r) => setTimeout(r, 300));
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await kv.close();
    await etcd.destroy();
  }
}

const [mode, endpoint, nodeName] = process.argv.slice(2);
if (mode === 'child' && endpoint && nodeName) await runChild(endpoint, nodeName);
else await runParent();
