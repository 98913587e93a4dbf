import { create, toBinary, fromBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FieldMaskSchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  AgentEventSchema,
  AgentEventType,
  FlowSchema,
  GetFlowsRequestSchema,
  LostEventSchema,
  LostEventSource,
  Verdict,
  type GetFlowsRequest,
  type GetFlowsResponse,
} from '@cilium-ts/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../ring-buffer.js';
import { getAgentEvents, getFlows } from './get-flows.js';
import { InvalidRequestError } from './invalid-request-error.js';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** A ring with flows f0..f(n-1), one per second; odd flows are DROPPED. */
function ringWith(n: number, capacity = 15): RingBuffer {
  const ring = new RingBuffer(capacity);
  for (let i = 0; i < n; i++) {
    const time = T0 + i * 1000;
    ring.write(create(FlowSchema, { uuid: `f${i}`, time: timestampFromMs(time), verdict: i % 2 ? Verdict.DROPPED : Verdict.FORWARDED, nodeName: 'k8s1', source: { namespace: 'x', podName: `p${i}`, identity: 100 + i } }), time);
  }
  return ring;
}

const request = (init: MessageInitShape<typeof GetFlowsRequestSchema>): GetFlowsRequest => create(GetFlowsRequestSchema, init);

async function collect(stream: AsyncIterable<GetFlowsResponse>, max = Infinity): Promise<string[]> {
  const out: string[] = [];
  for await (const r of stream) {
    const t = r.responseTypes;
    out.push(t.case === 'flow' ? t.value.uuid : t.case === 'lostEvents' ? `lost:${t.value.numEventsLost}` : String(t.case));
    if (out.length >= max) break;
  }
  return out;
}

const opts = { nodeName: 'k8s1', now: () => T0 + 60_000 };

describe('getFlows', () => {
  it('returns the last N flows in time order', async () => {
    expect(await collect(getFlows(ringWith(10), request({ number: 3n }), opts))).toEqual(['f7', 'f8', 'f9']);
  });

  it('counts only matching flows when walking back for the last N', async () => {
    const dropped = request({ number: 2n, whitelist: [{ verdict: [Verdict.DROPPED] }] });
    expect(await collect(getFlows(ringWith(10), dropped, opts))).toEqual(['f7', 'f9']);
  });

  it('returns the first N flows', async () => {
    expect(await collect(getFlows(ringWith(10), request({ number: 2n, first: true }), opts))).toEqual(['f0', 'f1']);
  });

  it('applies since and until', async () => {
    const r = request({ since: timestampFromMs(T0 + 3000), until: timestampFromMs(T0 + 5000) });
    expect(await collect(getFlows(ringWith(10), r, opts))).toEqual(['f3', 'f4', 'f5']);
  });

  it('applies whitelist and blacklist', async () => {
    const r = request({ number: 100n, whitelist: [{ sourcePod: ['x/p1'] }], blacklist: [{ sourceIdentity: [110, 111] }] });
    // p1 and p10..p14 share the prefix; identities 110/111 are p10/p11
    expect(await collect(getFlows(ringWith(15), r, opts))).toEqual(['f1', 'f12', 'f13', 'f14']);
  });

  it('follows: the last N, then new flows as they are written', async () => {
    const ring = ringWith(5);
    const controller = new AbortController();
    const stream = getFlows(ring, request({ number: 2n, follow: true }), { ...opts, signal: controller.signal });
    const got = collect(stream, 4);
    await new Promise((r) => setImmediate(r));
    ring.write(create(FlowSchema, { uuid: 'new1' }), T0 + 10_000);
    ring.write(create(FlowSchema, { uuid: 'new2' }), T0 + 11_000);
    expect(await got).toEqual(['f3', 'f4', 'new1', 'new2']);
    controller.abort();
  });

  it('follows with number 0 from the head only', async () => {
    const ring = ringWith(5);
    const stream = getFlows(ring, request({ follow: true }), opts);
    const got = collect(stream, 1);
    await new Promise((r) => setImmediate(r));
    ring.write(create(FlowSchema, { uuid: 'only-new' }), T0 + 10_000);
    expect(await got).toEqual(['only-new']);
  });

  it('passes lost events through without filters', async () => {
    const ring = ringWith(2);
    ring.write(create(LostEventSchema, { source: LostEventSource.PERF_EVENT_RING_BUFFER, numEventsLost: 9n }), T0 + 5000);
    const r = request({ number: 10n, first: true, whitelist: [{ sourcePod: ['nobody/'] }] });
    expect(await collect(getFlows(ring, r, opts))).toEqual(['lost:9']);
  });

  it('reports HUBBLE_RING_BUFFER losses when a slow follower is overtaken', async () => {
    const ring = ringWith(3, 3);
    const stream = getFlows(ring, request({ first: true, number: 0n }), opts)[Symbol.asyncIterator]();
    const first = await stream.next();
    expect(first.value?.responseTypes.case === 'flow' && first.value.responseTypes.value.uuid).toBe('f0');
    for (let i = 0; i < 5; i++) ring.write(create(FlowSchema, { uuid: `late${i}` }), T0 + 20_000 + i);
    const lost = await stream.next();
    expect(lost.value?.responseTypes.case).toBe('lostEvents');
    if (lost.value?.responseTypes.case !== 'lostEvents') throw new Error('expected lost events');
    expect(lost.value.responseTypes.value.source).toBe(LostEventSource.HUBBLE_RING_BUFFER);
    expect(lost.value.nodeName).toBe('k8s1');
  });

  it('sets node_name and time on each response', async () => {
    const [r] = await (async () => {
      const out: GetFlowsResponse[] = [];
      for await (const x of getFlows(ringWith(1), request({ number: 1n }), opts)) out.push(x);
      return out;
    })();
    expect(r?.nodeName).toBe('k8s1');
    expect(r?.time).toEqual(timestampFromMs(T0));
  });

  it('applies the field mask', async () => {
    const r = request({ number: 1n, fieldMask: { paths: ['uuid', 'source.identity'] } });
    for await (const x of getFlows(ringWith(1), r, opts)) {
      if (x.responseTypes.case !== 'flow') throw new Error('expected a flow');
      const f = x.responseTypes.value;
      expect(f.uuid).toBe('f0');
      expect(f.source?.identity).toBe(100);
      expect(f.source?.podName).toBe('');
      expect(f.verdict).toBe(Verdict.VERDICT_UNKNOWN);
    }
  });

  it('reads the field mask old CLIs send in experimental (field 999.1)', async () => {
    const mask = toBinary(FieldMaskSchema, create(FieldMaskSchema, { paths: ['verdict'] }));
    const w = new BinaryWriter();
    w.tag(1, WireType.Varint).uint64(1n);
    w.tag(999, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).bytes(mask).join();
    const decoded = fromBinary(GetFlowsRequestSchema, w.finish());
    for await (const x of getFlows(ringWith(2), decoded, opts)) {
      if (x.responseTypes.case !== 'flow') throw new Error('expected a flow');
      expect(x.responseTypes.value.verdict).toBe(Verdict.DROPPED);
      expect(x.responseTypes.value.uuid).toBe('');
    }
  });

  it.each<[string, MessageInitShape<typeof GetFlowsRequestSchema>, string]>([
    ['first with follow', { first: true, follow: true }, 'first: cannot be combined with follow'],
    ['a bad filter', { whitelist: [{ sourceIp: ['x'] }] }, 'whitelist[0].source_ip[0]: invalid IP address "x"'],
    ['a bad field mask', { fieldMask: { paths: ['source.nope'] } }, 'field_mask: "source.nope": flow.Endpoint has no field "nope"'],
  ])('refuses %s as an invalid argument', async (_n, init, message) => {
    const stream = getFlows(ringWith(1), request(init), opts);
    await expect(stream.next()).rejects.toThrow(InvalidRequestError);
    await expect(getFlows(ringWith(1), request(init), opts).next()).rejects.toThrow(message);
  });
});

describe('getAgentEvents', () => {
  it('streams only agent events from the ring', async () => {
    const ring = new RingBuffer(7);
    ring.write(create(AgentEventSchema, { type: AgentEventType.AGENT_STARTED }), T0);
    ring.write(create(FlowSchema, {}), T0 + 1);
    ring.write(create(AgentEventSchema, { type: AgentEventType.POLICY_UPDATED }), T0 + 2);
    const types: AgentEventType[] = [];
    for await (const r of getAgentEvents(ring, { number: 10n, first: false, follow: false }, opts)) types.push(r.agentEvent?.type ?? AgentEventType.AGENT_EVENT_UNKNOWN);
    expect(types).toEqual([AgentEventType.AGENT_STARTED, AgentEventType.POLICY_UPDATED]);
  });
});
