import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { GetNodesResponseSchema, NodeState, type Observer } from '@cilium-ts/proto';
import type { LocalObserver } from '../observer/local-observer.js';
import { getAgentEvents, getDebugEvents } from '../observer/get-flows.js';
import { InvalidRequestError } from '../observer/invalid-request-error.js';

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

/** observer.Observer of one node, over its LocalObserver. */
export function observerService(options: ObserverServiceOptions): ServiceImpl<typeof Observer> {
  const { observer, nodeName } = options;
  return {
    getFlows(request, context) {
      return asGrpcStream(observer.getFlows(request, context.signal));
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
