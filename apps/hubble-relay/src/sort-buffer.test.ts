import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { GetFlowsResponseSchema, type GetFlowsResponse } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { SortBuffer, sortBufferLength } from './sort-buffer.js';

const at = (ms: number, nodeName = 'k8s1') => create(GetFlowsResponseSchema, { nodeName, time: timestampFromMs(ms) });
const times = (rs: readonly GetFlowsResponse[]) => rs.map((r) => Number(r.time?.seconds) * 1000 + (r.time?.nanos ?? 0) / 1e6);

describe('SortBuffer', () => {
  it('releases the oldest entry when full and the rest in time order at the end', () => {
    const buffer = new SortBuffer<GetFlowsResponse>(3, 1000);
    const out: GetFlowsResponse[] = [];
    for (const t of [50, 10, 40, 20, 30, 60]) {
      const released = buffer.push(at(t), 0);
      if (released) out.push(released);
    }
    out.push(...buffer.drainAll());
    expect(times(out)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('lets entries go once they have waited the drain timeout', () => {
    const buffer = new SortBuffer<GetFlowsResponse>(100, 1000);
    buffer.push(at(1_000), 5_000);
    buffer.push(at(1_500), 5_500);
    expect(buffer.drainDue(5_900)).toEqual([]);
    expect(buffer.nextDueIn(5_900)).toBe(100);
    expect(times(buffer.drainDue(6_000))).toEqual([1_000]);
    expect(times(buffer.drainDue(6_600))).toEqual([1_500]);
  });

  it('when idle, lets go of entries older than now - drain timeout, as upstream', () => {
    const buffer = new SortBuffer<GetFlowsResponse>(100, 1000);
    buffer.push(at(1_000), 5_000);
    buffer.push(at(5_400), 5_500);
    expect(times(buffer.drainIdle(6_000))).toEqual([1_000]);
    expect(buffer.size).toBe(1);
  });

  it('does not hold flows from a node whose clock runs ahead longer than the timeout', () => {
    const buffer = new SortBuffer<GetFlowsResponse>(100, 1000);
    buffer.push(at(90_000), 5_000);
    expect(times(buffer.drainIdle(6_000))).toEqual([90_000]);
  });

  it('sizes itself like upstream: number × peers below 100, else the maximum', () => {
    expect(sortBufferLength(20n, 3, 100)).toBe(60);
    expect(sortBufferLength(0n, 3, 100)).toBe(100);
    expect(sortBufferLength(50n, 2, 100)).toBe(100);
  });
});

describe('SortBuffer.releaseUpTo', () => {
  it('releases what every stream has already gone past, in order', () => {
    const buffer = new SortBuffer<GetFlowsResponse>(100, 1000);
    for (const t of [30, 10, 20, 40]) buffer.push(at(t), 0);
    expect(times(buffer.releaseUpTo(25))).toEqual([10, 20]);
    expect(buffer.size).toBe(2);
  });
});
