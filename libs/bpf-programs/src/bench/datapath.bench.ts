// ns per packet of each endpoint program path under BPF_PROG_TEST_RUN, with 1
// and with 100 000 entries in the ipcache and the policy map, against an empty
// tc program measured in the same run. Run: npm run bench (after build).
import { upsertIpcache } from '../map-writers.js';
import { endpointCreationBench } from './endpoint-creation.js';
import { podToPodBench } from './pod-to-pod.js';
import { encodeIpcacheKey, encodeIpcacheValue } from '../codecs/ipcache.js';
import { TestDatapath } from '../testing/datapath-harness.js';
import type { PolicyRuleEntry } from '../policy-entries.js';
import { IPPROTO, TCP_FLAGS, tcp } from '../testing/packet-builder.js';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 1_000_000);
const NEW_FLOWS = Number(process.env.BENCH_NEW_FLOWS ?? 20_000);
const POD = '10.0.0.1';
const PEER = '10.0.0.2';
const DENIED = '10.0.0.3';

function ipOf(i: number): string {
  return `10.${100 + ((i >> 16) & 0xff)}.${(i >> 8) & 0xff}.${i & 0xff}`;
}

interface Row {
  path: string;
  ns: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function scenario(entries: number, wakeupBytes: number): Row[] {
  const dp = new TestDatapath();
  try {
    const empty = dp.load('bpf_empty');
    const ep = dp.endpoint({ id: 1, identity: 1000, ips: [POD], eventsWakeupBytes: wakeupBytes });
    const ipcache = dp.map('cilium_ipcache');
    upsertIpcache(ipcache, `${PEER}/32`, { identity: 2000 });
    upsertIpcache(ipcache, `${DENIED}/32`, { identity: 3000 });
    const rules: PolicyRuleEntry[] = [
      { identity: 2000, direction: 'egress', protocol: IPPROTO.tcp, port: 80 },
      { identity: 2000, direction: 'ingress', protocol: IPPROTO.tcp, port: 80 },
    ];
    // Filler: unrelated host prefixes and identities/ports, as a large cluster would have.
    const ipKeys: Buffer[] = [];
    const ipValues: Buffer[] = [];
    for (let i = 1; i < entries; i++) {
      ipKeys.push(encodeIpcacheKey({ cidr: `${ipOf(i)}/32` }));
      ipValues.push(encodeIpcacheValue({ identity: 10_000 + i }));
      rules.push({ identity: 10_000 + i, direction: 'egress', protocol: IPPROTO.tcp, port: i & 0xffff });
    }
    // LPM tries have no batch updates.
    ipKeys.forEach((k, i) => ipcache.update(k, ipValues[i] as Buffer));
    ep.writePolicy(rules);
    dp.watchEvents();

    const prog = (name: string) => (name === 'cil_empty' ? empty : ep).program(name);
    const repeated = (name: string, data: Buffer) => {
      const runs = [0, 1, 2].map(() => prog(name).testRun({ data, repeat: REPEAT }).durationNs);
      return median(runs);
    };
    // Every packet its own flow: one run per packet, averaged (the same for the empty program).
    const perPacket = (name: string, make: (i: number) => Buffer) => {
      let total = 0;
      for (let i = 0; i < NEW_FLOWS; i++) total += prog(name).testRun({ data: make(i) }).durationNs;
      return total / NEW_FLOWS;
    };

    const rows: Row[] = [];
    rows.push({ path: 'empty program (repeat)', ns: repeated('cil_empty', tcp(POD, PEER, 1, 80)) });
    rows.push({ path: 'empty program (one packet per run)', ns: perPacket('cil_empty', (i) => tcp(POD, PEER, 1024 + (i % 60000), 80, TCP_FLAGS.syn)) });
    rows.push({ path: 'new flow + policy lookup (one packet per run)', ns: perPacket('cil_from_container', (i) => tcp(POD, PEER, 1024 + (i % 60000), 80, TCP_FLAGS.syn)) });
    ep.program('cil_from_container').testRun({ data: tcp(POD, PEER, 5, 80, TCP_FLAGS.syn) });
    rows.push({ path: 'established (egress)', ns: repeated('cil_from_container', tcp(POD, PEER, 5, 80)) });
    rows.push({ path: 'reply (ingress)', ns: repeated('cil_to_container', tcp(PEER, POD, 80, 5)) });
    rows.push({ path: 'drop: policy denied', ns: repeated('cil_from_container', tcp(POD, DENIED, 6, 80, TCP_FLAGS.syn)) });
    return rows;
  } finally {
    void dp.close();
  }
}

const big = Number(process.env.BENCH_ENTRIES ?? 100_000);
const runs = [
  { label: '1 entry (ns)', rows: scenario(1, 0) },
  { label: `${big} entries (ns)`, rows: scenario(big, 0) },
  { label: '1 entry, batched wakeup (ns)', rows: scenario(1, 64 * 1024) },
];
const [one, many] = runs;
console.log(`datapath per packet under BPF_PROG_TEST_RUN: repeat ${REPEAT} (median of 3), new flows: ${NEW_FLOWS} runs of one packet each`);
console.log('event reader attached; "batched wakeup" = EVENTS_WAKEUP_BYTES 65536 instead of adaptive wakeups');
const header = ['path', ...runs.map((r) => r.label), `${big} / 1`];
const lines = (one?.rows ?? []).map((row, i) => [
  row.path,
  ...runs.map((r) => (r.rows[i]?.ns ?? 0).toFixed(1)),
  ((many?.rows[i]?.ns ?? 0) / row.ns).toFixed(2),
]);
const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => (l[c] ?? '').length)));
const fmt = (cols: string[]) => `| ${cols.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
console.log(fmt(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const l of lines) console.log(fmt(l));

endpointCreationBench();
if (process.env.BENCH_RR !== '0') await podToPodBench();
