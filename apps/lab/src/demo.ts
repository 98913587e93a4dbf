import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BpfObject, RingBufferReader, type TcLink } from '@cilium-ts/datapath-native';
import { objectPath } from '@cilium-ts/bpf-programs';
import { Netns, joinWithVeth } from './netns.js';

const PROTOCOL_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP' };

/** One packet the program reported through its ring buffer (struct demo_event). */
export interface DemoEvent {
  source: string;
  destination: string;
  protocol: string;
  length: number;
}

export function decodeDemoEvent(buf: Buffer): DemoEvent {
  const ip = (off: number) => [...buf.subarray(off, off + 4)].join('.');
  const proto = buf.readUInt8(8);
  return { source: ip(0), destination: ip(4), protocol: PROTOCOL_NAMES[proto] ?? `proto ${proto}`, length: buf.readUInt32LE(12) };
}

export interface DemoResult {
  counts: Array<{ protocol: string; packets: number; bytes: number }>;
  events: DemoEvent[];
}

// Traffic from the client namespace to the server namespace: TCP request/response and UDP datagrams,
// with Node itself on both sides so the demo needs no extra tools.
const SERVER = `
const net = require('net'), dgram = require('dgram');
net.createServer(s => s.on('data', d => s.end(d))).listen(8080, '10.200.0.2');
dgram.createSocket('udp4').bind(5300, '10.200.0.2');
setTimeout(() => process.exit(0), 15000);
console.log('ready');`;
const CLIENT = `
const net = require('net'), dgram = require('dgram');
let left = 5;
const round = () => { const c = net.connect(8080, '10.200.0.2', () => c.write('hello')); c.on('data', () => c.end()); c.on('close', () => --left > 0 ? round() : udp()); };
const udp = () => { const u = dgram.createSocket('udp4'); let n = 0; const send = () => u.send('ping', 5300, '10.200.0.2', () => ++n < 5 ? send() : u.close()); send(); };
round();`;

/**
 * The foundation demo: two namespaces joined by a veth, a BPF program from libs/bpf-programs counting
 * packets per protocol on one end, real traffic between them, and what the program saw.
 */
export async function runDatapathDemo(log: (line: string) => void = console.log): Promise<DemoResult> {
  const suffix = randomBytes(3).toString('hex');
  const client = await Netns.create(`cts-demo-client-${suffix}`);
  let server: Netns | undefined;
  let object: BpfObject | undefined;
  let link: TcLink | undefined;
  let reader: RingBufferReader | undefined;
  const events: DemoEvent[] = [];
  try {
    server = await Netns.create(`cts-demo-server-${suffix}`);
    await joinWithVeth(client, 'eth0', '10.200.0.1/24', server, 'eth0', '10.200.0.2/24');
    log(`namespaces ${client.name} (10.200.0.1) and ${server.name} (10.200.0.2) joined by a veth`);

    object = BpfObject.load(objectPath('bpf_demo'), { constants: { events_per_protocol: 2 } });
    link = object.program('demo_count_packets').attachTc('eth0', 'ingress', { netns: server.path });
    log(`attached demo_count_packets at tc ingress of eth0 in ${server.name}`);
    reader = new RingBufferReader(object.map('demo_events'), (batch) => {
      for (const ev of batch) events.push(decodeDemoEvent(ev));
    });

    const serverProc = spawn('ip', ['netns', 'exec', server.name, 'node', '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        serverProc.stdout.once('data', () => resolve());
        serverProc.once('exit', (code) => reject(new Error(`demo server exited with ${code}`)));
      });
      log('sending 3 pings, 5 TCP request/responses and 5 UDP datagrams');
      await client.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', '-q', '10.200.0.2']);
      await client.exec('node', ['-e', CLIENT]);
    } finally {
      serverProc.kill();
    }
    await sleep(100); // let the ring buffer thread hand over the last batch

    const counts = [1, 6, 17].map((proto) => {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(proto);
      const perCpu = object!.map('demo_counts').lookupPerCpu(key) ?? [];
      let packets = 0;
      let bytes = 0;
      for (const v of perCpu) {
        packets += Number(v.readBigUInt64LE(0));
        bytes += Number(v.readBigUInt64LE(8));
      }
      return { protocol: PROTOCOL_NAMES[proto]!, packets, bytes };
    });
    return { counts, events: [...events] };
  } finally {
    await reader?.close();
    link?.detach();
    object?.close();
    await server?.delete();
    await client.delete();
  }
}

export function printDemoResult(result: DemoResult, log: (line: string) => void = console.log): void {
  log('');
  log('What the program counted (map demo_counts, summed over CPUs):');
  log('  PROTOCOL  PACKETS  BYTES');
  for (const c of result.counts) log(`  ${c.protocol.padEnd(8)}  ${String(c.packets).padStart(7)}  ${String(c.bytes).padStart(5)}`);
  log('');
  log(`First packets it reported (ring buffer demo_events, ${result.events.length} events):`);
  for (const e of result.events) log(`  ${e.protocol.padEnd(4)} ${e.source} -> ${e.destination}  ${e.length} bytes`);
  log('');
  log('Everything the demo made (namespaces, veth, program, maps) has been removed.');
}
