// Cost of map operations from TypeScript, next to two baselines measured in the same run: the same
// syscalls issued from a C loop, and the kernel's own cost of running an empty tc program
// (BPF_PROG_TEST_RUN, measured by the kernel). Rounds are interleaved and
// the median is printed, because the machines are shared.
import { fileURLToPath } from 'node:url';
import { BpfMap } from '../bpf-map.js';
import { BpfObject } from '../bpf-object.js';
import { binding } from '../native.js';

const OPS = 100_000;
const BATCH = 1_000;
const ROUNDS = 7;

function key(i: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(i);
  return b;
}

function nsPer(count: number, fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / count;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const map = BpfMap.create({ type: 'hash', name: 'bench_hash', keySize: 4, valueSize: 8, maxEntries: OPS });
const obj = BpfObject.load(fileURLToPath(new URL('../../build/test-bpf/basic.o', import.meta.url)));
try {
  const keys = Array.from({ length: OPS }, (_, i) => key(i));
  const value = Buffer.alloc(8, 1);
  const values = keys.map(() => value);
  const packet = Buffer.alloc(64);
  const tcPass = obj.program('tc_pass');

  const results: Record<string, number[]> = {};
  const record = (name: string, ns: number): void => {
    (results[name] ??= []).push(ns);
  };
  for (let round = 0; round < ROUNDS; round++) {
    record('hash update (single)', nsPer(OPS, () => { for (const k of keys) map.update(k, value); }));
    record('hash lookup (single)', nsPer(OPS, () => { for (const k of keys) map.lookup(k); }));
    record(`hash update (batches of ${BATCH}, per element)`, nsPer(OPS, () => {
      for (let i = 0; i < OPS; i += BATCH) map.updateBatch(keys.slice(i, i + BATCH), values.slice(i, i + BATCH));
    }));
    record('hash lookupBatch (whole map, per element)', nsPer(OPS, () => {
      if (map.lookupBatch({ batchSize: BATCH }).length !== OPS) throw new Error('lookupBatch returned a partial map');
    }));
    const raw = binding.benchMapSyscalls(map.fd, OPS, 4, 8);
    record('baseline: hash update, C loop (same syscall)', raw.updateNs);
    record('baseline: hash lookup, C loop (same syscall)', raw.lookupNs);
    record('testRun from TypeScript (repeat 1, per call)', nsPer(10_000, () => { for (let i = 0; i < 10_000; i++) tcPass.testRun({ data: packet }); }));
    record('baseline: empty tc program, kernel ns/run (repeat 1e6)', tcPass.testRun({ data: packet, repeat: 1_000_000 }).durationNs);
  }

  const rows = Object.entries(results).map(([name, xs]) => ({ operation: name, 'ns/op (median)': median(xs).toFixed(1), min: Math.min(...xs).toFixed(1), max: Math.max(...xs).toFixed(1) }));
  console.log(`datapath-native map operations: ${OPS} ops per round, ${ROUNDS} interleaved rounds`);
  console.table(rows);
} finally {
  obj.close();
  map.close();
}
