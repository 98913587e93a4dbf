import { create, fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { FieldMaskSchema, timestampFromMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  FlowSchema,
  GetAgentEventsResponseSchema,
  GetDebugEventsResponseSchema,
  GetFlowsResponseSchema,
  type AgentEvent,
  type DebugEvent,
  type Flow,
  type GetAgentEventsResponse,
  type GetDebugEventsResponse,
  type GetFlowsRequest,
  type GetFlowsResponse,
  type LostEvent,
} from '@cilium-ts/proto';
import { FilterError } from '../filters/filter-error.js';
import { compileFlowSelection, type FlowPredicate } from '../filters/flow-filter.js';
import type { HubbleEvent, RingBuffer } from '../ring-buffer.js';
import { compileFieldMask } from './field-mask.js';
import { InvalidRequestError } from './invalid-request-error.js';

/** The selection part shared by GetFlows, GetAgentEvents and GetDebugEvents requests. */
export interface EventWindow {
  readonly number: bigint;
  readonly first: boolean;
  readonly follow: boolean;
  readonly since?: Timestamp | undefined;
  readonly until?: Timestamp | undefined;
}

export interface StreamOptions {
  /** Used for responses whose event carries no node name (lost events). */
  readonly nodeName: string;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export function timestampToMs(ts: Timestamp): number {
  return Number(ts.seconds) * 1000 + ts.nanos / 1e6;
}

type Selected = { readonly lost: true; readonly event: LostEvent; readonly time: number } | { readonly lost: false; readonly event: HubbleEvent; readonly time: number };

/**
 * Walks the ring the way upstream's observer does: find the start (oldest for `first`, the head for
 * a bare follow, otherwise back from the newest until `number` matching events or `since`), then
 * read forward, stopping after `number` matches or past `until` unless following. Lost events skip
 * both the filters and the time range.
 */
export async function* selectEvents(
  ring: RingBuffer,
  window: EventWindow,
  matches: (event: HubbleEvent) => boolean,
  options: Pick<StreamOptions, 'signal' | 'now'> = {},
): AsyncGenerator<Selected> {
  if (window.first && window.follow) throw new InvalidRequestError('first: cannot be combined with follow');
  const since = window.since ? timestampToMs(window.since) : undefined;
  const until = window.until ? timestampToMs(window.until) : undefined;
  const limit = window.number > 0n ? window.number : undefined;
  const now = options.now ?? Date.now;
  const signal = options.signal;

  let start = ring.oldest;
  if (window.first) {
    if (since !== undefined) {
      while (start < ring.written && (ring.timeAt(start) ?? 0) < since) start++;
    }
  } else if (window.follow && limit === undefined && since === undefined) {
    start = ring.written;
  } else if (limit !== undefined || since !== undefined) {
    let count = 0n;
    for (let seq = ring.written - 1; seq >= ring.oldest; seq--) {
      const entry = ring.get(seq);
      if (!entry) break;
      if (since !== undefined && entry.time < since) {
        start = seq + 1;
        break;
      }
      if ((until === undefined || entry.time <= until) && matches(entry.event)) {
        count++;
        if (limit !== undefined && count === limit) {
          start = seq;
          break;
        }
      }
    }
  }

  const end = ring.written;
  const reader = ring.reader(start);
  let emitted = 0n;
  while (!signal?.aborted) {
    if (!window.follow && reader.position >= end) return;
    const read = reader.next(now);
    if (!read) {
      if (!window.follow) return;
      await ring.waitForWrite(signal);
      continue;
    }
    if (read.kind === 'lost' || read.event.$typeName === 'flow.LostEvent') {
      yield { lost: true, event: read.event as LostEvent, time: read.time };
      continue;
    }
    if (until !== undefined && read.time > until) return;
    if (since !== undefined && read.time < since) continue;
    if (!matches(read.event)) continue;
    yield { lost: false, event: read.event, time: read.time };
    emitted++;
    if (!window.follow && limit !== undefined && emitted >= limit) return;
  }
}

// CLIs v0.12-0.13 send the mask in GetFlowsRequest.experimental (field 999.1), now reserved; it
// arrives as an unknown field.
function legacyFieldMaskPaths(request: GetFlowsRequest): string[] {
  const unknown = request.experimental?.$unknown ?? [];
  const paths: string[] = [];
  for (const field of unknown) {
    if (field.no !== 1 || field.wireType !== WireType.LengthDelimited) continue;
    const bytes = new BinaryReader(field.data).bytes();
    paths.push(...fromBinary(FieldMaskSchema, bytes).paths);
  }
  return paths;
}

/** Everything about a GetFlows request that can be checked and compiled before streaming. */
export interface CompiledFlowsRequest {
  readonly window: EventWindow;
  readonly matches: FlowPredicate;
  readonly mask: (flow: Flow) => Flow;
}

export function compileFlowsRequest(request: GetFlowsRequest): CompiledFlowsRequest {
  if (request.first && request.follow) throw new InvalidRequestError('first: cannot be combined with follow');
  let matches: FlowPredicate;
  try {
    matches = compileFlowSelection(request.whitelist, request.blacklist);
  } catch (err) {
    if (err instanceof FilterError) throw new InvalidRequestError(err.message);
    throw err;
  }
  const paths = request.fieldMask?.paths.length ? request.fieldMask.paths : legacyFieldMaskPaths(request);
  const mask = compileFieldMask<Flow>(FlowSchema, paths);
  return { window: request, matches, mask };
}

const isFlow = (e: HubbleEvent): e is Flow => e.$typeName === 'flow.Flow';

/**
 * The GetFlows response stream for one request over one ring: flows (filtered, masked) and lost
 * events, each with node_name and time. Throws InvalidRequestError before the first response when
 * the request is invalid.
 */
export async function* getFlows(ring: RingBuffer, request: GetFlowsRequest, options: StreamOptions): AsyncGenerator<GetFlowsResponse> {
  const { window, matches, mask } = compileFlowsRequest(request);
  const now = options.now ?? Date.now;
  for await (const selected of selectEvents(ring, window, (e) => isFlow(e) && matches(e), options)) {
    if (selected.lost) {
      yield create(GetFlowsResponseSchema, {
        responseTypes: { case: 'lostEvents', value: selected.event },
        nodeName: options.nodeName,
        time: timestampFromMs(now()),
      });
      continue;
    }
    const flow = selected.event as Flow;
    yield create(GetFlowsResponseSchema, {
      responseTypes: { case: 'flow', value: mask(flow) },
      nodeName: flow.nodeName !== '' ? flow.nodeName : options.nodeName,
      time: flow.time ?? timestampFromMs(selected.time),
    });
  }
}

/** GetAgentEvents over a ring of agent events; lost reports are not part of this stream upstream. */
export async function* getAgentEvents(ring: RingBuffer, window: EventWindow, options: StreamOptions): AsyncGenerator<GetAgentEventsResponse> {
  for await (const s of selectEvents(ring, window, (e) => e.$typeName === 'flow.AgentEvent', options)) {
    if (s.lost) continue;
    yield create(GetAgentEventsResponseSchema, { agentEvent: s.event as AgentEvent, nodeName: options.nodeName, time: timestampFromMs(s.time) });
  }
}

/** GetDebugEvents over a ring of debug events. */
export async function* getDebugEvents(ring: RingBuffer, window: EventWindow, options: StreamOptions): AsyncGenerator<GetDebugEventsResponse> {
  for await (const s of selectEvents(ring, window, (e) => e.$typeName === 'flow.DebugEvent', options)) {
    if (s.lost) continue;
    yield create(GetDebugEventsResponseSchema, { debugEvent: s.event as DebugEvent, nodeName: options.nodeName, time: timestampFromMs(s.time) });
  }
}
