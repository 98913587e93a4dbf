import { afterEach, describe, expect, it } from 'vitest';
import { BpfMap } from './bpf-map.js';
import { BpfObject } from './bpf-object.js';
import { RingBufferReader } from './ring-buffer-reader.js';
import { Scratch, run, testObject } from '../test/support/scratch.js';

const scratch = new Scratch();
afterEach(() => scratch.cleanup());

interface PacketEvent {
  ifindex: number;
  len: number;
  protocol: number;
}

/** struct packet_event in test/bpf/observe.bpf.c */
function decode(b: Buffer): PacketEvent {
  return { ifindex: b.readUInt32LE(0), len: b.readUInt32LE(4), protocol: b.readUInt16BE(8) };
}

async function until(what: string, done: () => boolean, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RingBufferReader', () => {
  it('delivers the events a tc program emits for real packets, in batches', async () => {
    // Two namespaces joined by a veth pair; the program watches the receiving end.
    const client = scratch.netns();
    const server = scratch.netns();
    const veth = scratch.veth(client, server);
    run('ip', ['-n', client.name, 'addr', 'add', '192.0.2.1/30', 'dev', veth.a]);
    run('ip', ['-n', server.name, 'addr', 'add', '192.0.2.2/30', 'dev', veth.b]);

    const obj = scratch.closeLater(BpfObject.load(testObject('observe')));
    const batches: Buffer[][] = [];
    const reader = new RingBufferReader(obj.map('events'), (events) => batches.push(events), { maxBatch: 4, pollTimeoutMs: 20 });
    scratch.defer(() => void reader.close());
    const link = obj.program('tc_observe').attachTc(veth.b, 'ingress', { netns: server.path });
    scratch.defer(() => link.detach());

    run('ip', ['netns', 'exec', client.name, 'ping', '-c', '5', '-i', '0.05', '-W', '2', '192.0.2.2']);
    const events = () => batches.flat().map(decode);
    await until('5 IPv4 events', () => events().filter((e) => e.protocol === 0x0800).length >= 5);
    await reader.close();

    const ifindex = link.ifindex;
    expect(events().every((e) => e.ifindex === ifindex)).toBe(true);
    // 5 echo requests of 84 bytes (20 IP + 8 ICMP + 56 data) plus their Ethernet header.
    expect(events().filter((e) => e.protocol === 0x0800 && e.len === 98)).toHaveLength(5);
    expect(batches.every((b) => b.length >= 1 && b.length <= 4)).toBe(true);
    expect(reader.stats).toEqual({ events: events().length, batches: batches.length, droppedInUserspace: 0, pending: 0 });
    expect(obj.map('lost_events').lookupPerCpu(Buffer.alloc(4))?.every((v) => v.readBigUInt64LE() === 0n)).toBe(true);
  });

  it('counts events dropped when JS falls behind by more than maxPending', async () => {
    const client = scratch.netns();
    const server = scratch.netns();
    const veth = scratch.veth(client, server);
    run('ip', ['-n', client.name, 'addr', 'add', '192.0.2.5/30', 'dev', veth.a]);
    run('ip', ['-n', server.name, 'addr', 'add', '192.0.2.6/30', 'dev', veth.b]);
    const obj = scratch.closeLater(BpfObject.load(testObject('observe')));
    let delivered = 0;
    // The first delivery blocks the JS thread until the kernel has produced more than maxPending.
    let block = true;
    const reader = new RingBufferReader(obj.map('events'), (events) => {
      delivered += events.length;
      if (block) {
        block = false;
        run('ip', ['netns', 'exec', client.name, 'ping', '-c', '30', '-i', '0.01', '-W', '1', '192.0.2.6']);
        run('sleep', ['0.3']);
      }
    }, { maxPending: 8, pollTimeoutMs: 10 });
    scratch.defer(() => void reader.close());
    const link = obj.program('tc_observe').attachTc(veth.b, 'ingress', { netns: server.path });
    scratch.defer(() => link.detach());
    run('ip', ['netns', 'exec', client.name, 'ping', '-c', '1', '-W', '1', '192.0.2.6']);
    await until('the first delivery', () => !block);
    await reader.close();
    const stats = reader.stats;
    expect(stats.droppedInUserspace).toBeGreaterThan(0);
    expect(stats.events).toBe(delivered);
  });

  it('refuses a map that is not a ring buffer', () => {
    const map = scratch.closeLater(BpfMap.create({ type: 'array', name: 'ctsdn_notrb', keySize: 4, valueSize: 4, maxEntries: 1 }));
    expect(() => new RingBufferReader(map, () => {})).toThrow('ring_buffer__new(ctsdn_notrb): EINVAL Invalid argument (map type is array, not ringbuf)');
  });

  it('close() resolves, and again when called twice', async () => {
    const map = scratch.closeLater(BpfMap.create({ type: 'ringbuf', name: 'ctsdn_rb2', keySize: 0, valueSize: 0, maxEntries: 4096 }));
    const reader = new RingBufferReader(map, () => {}, { pollTimeoutMs: 10 });
    await reader.close();
    await reader.close();
    expect(reader.stats.events).toBe(0);
  });
});
