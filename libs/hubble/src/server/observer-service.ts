import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { FlowSchema, GetNodesResponseSchema, LostEventSchema, NodeState, NodeStatusEventSchema, type Flow, type GetFlowsResponse } from '@cilium-ts/proto';
import type { LocalObserver } from '../observer/local-observer.js';
import { getAgentEvents, getDebugEvents } from '../observer/get-flows.js';
import { InvalidRequestError } from '../observer/invalid-request-error.js';
import type { LazyFlowsResponse, LazyObserver } from './lazy-flows.js';

/** Maps request validation errors to InvalidArgument, as upstream's server answers them. */
export async function* asGrpcStream<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (err) {
    if (err instanceof InvalidRequestError) throw new ConnectError(err.message, Code.InvalidArgument);
    throw err;
  }
}

export interface ObserverServiceOptions {
  readonly observer: LocalObserver;
  readonly nodeName: string;
  readonly version: string;
  /** This node's address as the Peer service announces it (GetNodes); known once listening. */
  readonly address?: () => string;
  readonly tls?: boolean;
}

/**
 * Flows in the ring never change, so each is encoded once and the bytes reused for every reader
 * (masked flows are new objects and are encoded per request).
 */
class FlowEncoder {
  private readonly encoded = new WeakMap<Flow, Uint8Array>();

  lazy(r: GetFlowsResponse): LazyFlowsResponse {
    const rt = r.responseTypes;
    let responseTypes: LazyFlowsResponse['responseTypes'];
    if (rt.case === 'flow') {
      let bytes = this.encoded.get(rt.value);
      if (!bytes) this.encoded.set(rt.value, (bytes = toBinary(FlowSchema, rt.value)));
      responseTypes = { case: 'flow', value: bytes };
    } else if (rt.case === 'lostEvents') responseTypes = { case: 'lostEvents', value: toBinary(LostEventSchema, rt.value) };
    else if (rt.case === 'nodeStatus') responseTypes = { case: 'nodeStatus', value: toBinary(NodeStatusEventSchema, rt.value) };
    else responseTypes = { case: undefined };
    return { $typeName: 'cilium_ts.lazy.GetFlowsResponse', responseTypes, nodeName: r.nodeName, time: r.time };
  }
}

async function* encodeFlows(encoder: FlowEncoder, stream: AsyncIterable<GetFlowsResponse>): AsyncGenerator<LazyFlowsResponse> {
  for await (const r of stream) yield encoder.lazy(r);
}

/** observer.Observer of one node, over its LocalObserver (GetFlows answered with pre-encoded flows). */
export function observerService(options: ObserverServiceOptions): ServiceImpl<typeof LazyObserver> {
  const { observer, nodeName } = options;
  const encoder = new FlowEncoder();
  return {
    getFlows(request, context) {
      return asGrpcStream(encodeFlows(encoder, observer.getFlows(request, context.signal)));
    },
    getAgentEvents(request, context) {
      return asGrpcStream(getAgentEvents(observer.ring, request, { nodeName, signal: context.signal }));
    },
    getDebugEvents(request, context) {
      return asGrpcStream(getDebugEvents(observer.ring, request, { nodeName, signal: context.signal }));
    },
    getNodes() {
      const status = observer.serverStatus();
      return create(GetNodesResponseSchema, {
        nodes: [
          {
            name: nodeName,
            version: options.version,
            address: options.address?.() ?? '',
            state: NodeState.NODE_CONNECTED,
            tls: { enabled: options.tls === true },
            uptimeNs: status.uptimeNs,
            numFlows: status.numFlows,
            maxFlows: status.maxFlows,
            seenFlows: status.seenFlows,
          },
        ],
      });
    },
    getNamespaces() {
      return observer.getNamespaces();
    },
    serverStatus() {
      return observer.serverStatus();
    },
  };
}
