import { create } from '@bufbuild/protobuf';
import { FlowSchema, LostEventSource, type Flow } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { RingBuffer, type RingRead } from './ring-buffer.js';

const flow = (n: number): Flow => create(FlowSchema, { uuid: `f${n}` });
const uuidOf = (r: RingRead | undefined) => (r?.kind === 'event' && r.event.$typeName === 'flow.Flow' ? r.event.uuid : undefined);

describe('RingBuffer', () => {
  it('defaults to upstream capacity 4095 and accepts only 2^k-1', () => {
    expect(new RingBuffer().capacity).toBe(4095);
    expect(new RingBuffer(7).capacity).toBe(7);
    expect(() => new RingBuffer(4096)).toThrow('ring buffer capacity: must be 2^k-1 between 1 and 65535, got 4096');
    expect(() => new RingBuffer(131071)).toThrow(RangeError);
  });

  it('holds at most capacity events and overwrites the oldest', () => {
    const ring = new RingBuffer(3);
    for (let i = 0; i < 5; i++) ring.write(flow(i), 1000 + i);
    expect(ring.written).toBe(5);
    expect(ring.length).toBe(3);
    expect(ring.oldest).toBe(2);
    expect(ring.get(1)).toBeUndefined();
    expect(ring.get(2)?.time).toBe(1002);
    const reader = ring.reader();
    expect([uuidOf(reader.next()), uuidOf(reader.next()), uuidOf(reader.next()), reader.next()]).toEqual(['f2', 'f3', 'f4', undefined]);
  });

  it('reports a lapped reader with one HUBBLE_RING_BUFFER lost event counting what was overwritten', () => {
    const ring = new RingBuffer(3);
    ring.write(flow(0), 0);
    const reader = ring.reader();
    expect(uuidOf(reader.next())).toBe('f0');
    for (let i = 1; i <= 6; i++) ring.write(flow(i), i);
    // seq 1..3 were overwritten by 4..6 before the reader got to them
    const lost = reader.next();
    expect(lost?.kind).toBe('lost');
    if (lost?.kind !== 'lost') throw new Error('expected a lost read');
    expect(lost.event.source).toBe(LostEventSource.HUBBLE_RING_BUFFER);
    expect(lost.event.numEventsLost).toBe(3n);
    expect([uuidOf(reader.next()), uuidOf(reader.next()), uuidOf(reader.next())]).toEqual(['f4', 'f5', 'f6']);
  });

  it('lets readers keep independent cursors over the same entries, without copies', () => {
    const ring = new RingBuffer(7);
    const a = ring.reader(0);
    const first = flow(0);
    ring.write(first, 0);
    ring.write(flow(1), 1);
    const b = ring.reader(1);
    const readA = a.next();
    expect(readA?.kind === 'event' && readA.event).toBe(first);
    expect(uuidOf(b.next())).toBe('f1');
    expect(uuidOf(a.next())).toBe('f1');
    expect(b.next()).toBeUndefined();
  });

  it('follows: wakes waiting readers on each write and stops on abort', async () => {
    const ring = new RingBuffer(15);
    const controller = new AbortController();
    const seen: string[] = [];
    const follower = (async () => {
      for await (const read of ring.reader(0).follow(controller.signal)) {
        seen.push(uuidOf(read) ?? 'lost');
        if (seen.length === 3) controller.abort();
      }
    })();
    // Writers interleaved with the follower: each write happens after the follower had to wait.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      ring.write(flow(i), i);
    }
    await follower;
    expect(seen).toEqual(['f0', 'f1', 'f2']);
  });

  it('keeps several writers and followers consistent under interleaving, reporting overruns as losses', async () => {
    const ring = new RingBuffer(15);
    const controller = new AbortController();
    const total = 400;
    const readers = [0, 1].map(async () => {
      let events = 0;
      let lost = 0;
      let lastSeq = -1;
      for await (const read of ring.reader(0).follow(controller.signal)) {
        if (read.kind === 'lost') lost += Number(read.event.numEventsLost);
        else {
          expect(read.seq).toBeGreaterThan(lastSeq);
          lastSeq = read.seq;
          events++;
        }
        if (events + lost === total) break;
        // A slow reader: yields after every read so the writers can lap it.
        if (read.seq % 7 === 0) await new Promise((r) => setImmediate(r));
      }
      return { events, lost };
    });
    const writers = [0, 1].map(async (w) => {
      for (let i = 0; i < total / 2; i++) {
        ring.write(flow(w * 1000 + i), i);
        if (i % 5 === 0) await new Promise((r) => setImmediate(r));
      }
    });
    await Promise.all(writers);
    const results = await Promise.all(readers);
    controller.abort();
    for (const r of results) expect(r.events + r.lost).toBe(total);
    expect(ring.written).toBe(total);
  });
});
