import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { AsyncChannel, LazyFlowsResponseSchema, type LazyFlowsResponse, type LazyObserver } from '@cilium-ts/hubble';
import {
  GetNamespacesResponseSchema,
  GetNodesResponseSchema,
  NodeState,
  NodeStatusEventSchema,
  ServerStatusResponseSchema,
  type GetFlowsRequest,
  type Namespace,
  type Node,
  type ServerStatusResponse,
} from '@cilium-ts/proto';
import type { PeerHandle } from './peer-manager.js';
import { SortBuffer, sortBufferLength } from './sort-buffer.js';

export interface RelayObserverOptions {
  /** The agents, as the peer manager currently knows them. */
  readonly peers: () => readonly PeerHandle[];
  /** The relay's own name on the node status events it emits. */
  readonly nodeName: string;
  readonly version: string;
  /** `--sort-buffer-len-max` (100). */
  readonly sortBufferLenMax?: number;
  /** `--sort-buffer-drain-timeout` (1 s). */
  readonly sortBufferDrainTimeoutMs?: number;
  /** Timeout of the per-peer unary calls (ServerStatus, GetNodes, GetNamespaces). */
  readonly callTimeoutMs?: number;
  /**
   * With follow, a node whose stream has been quiet this long no longer holds back the others'
   * flows (it has nothing older in flight); without it, the tail of a burst waits the drain timeout.
   */
  readonly followQuietMs?: number;
  /** With follow, how often new peers are looked for (upstream 2 s). */
  readonly followRelistMs?: number;
  readonly now?: () => number;
}

type Arrival =
  | { readonly kind: 'response'; readonly peer: string; readonly response: LazyFlowsResponse }
  | { readonly kind: 'status'; readonly response: LazyFlowsResponse }
  | { readonly kind: 'ended'; readonly peer: PeerHandle; readonly error?: unknown };

const MAX_UNAVAILABLE_LISTED = 10;
const ERROR_MERGE_WINDOW_MS = 10_000;
const MAX_QUEUED = 4096;

function isUnavailable(err: unknown): boolean {
  return err instanceof ConnectError && (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded);
}


/**
 * observer.Observer of the whole cluster: every call fanned out to the available peers and merged.
 * GetFlows merges by time through the sort buffer, releasing a response as soon as every stream
 * has gone past its time (or the buffer is full, or the drain timeout passes).
 */
export function relayObserverService(options: RelayObserverOptions): ServiceImpl<typeof LazyObserver> {
  const now = options.now ?? Date.now;
  const lenMax = options.sortBufferLenMax ?? 100;
  const drainMs = options.sortBufferDrainTimeoutMs ?? 1000;
  const callTimeoutMs = options.callTimeoutMs ?? 5000;

  const nodeStatus = (state: NodeState, nodeNames: string[], message = ''): LazyFlowsResponse =>
    create(LazyFlowsResponseSchema, {
      responseTypes: { case: 'nodeStatus', value: toBinary(NodeStatusEventSchema, create(NodeStatusEventSchema, { stateChange: state, nodeNames, message })) },
      nodeName: options.nodeName,
      time: timestampFromMs(now()),
    });

  async function statusOf(peer: PeerHandle, signal: AbortSignal): Promise<ServerStatusResponse | Error> {
    try {
      return await peer.client.serverStatus({}, { signal, timeoutMs: callTimeoutMs });
    } catch (err) {
      if (isUnavailable(err)) peer.reportUnavailable(String(err));
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  async function* getFlows(request: GetFlowsRequest, signal: AbortSignal): AsyncGenerator<LazyFlowsResponse> {
    if (request.first && request.follow) throw new ConnectError('first: cannot be combined with follow', Code.InvalidArgument);
    const all = options.peers();
    const connected = all.filter((p) => p.available);
    const unavailable = all.filter((p) => !p.available);

    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal.addEventListener('abort', onAbort);
    const arrivals = new AsyncChannel<Arrival>();
    // Per streaming peer, the time of the newest response it sent (the merge's watermark) and when it came.
    const streaming = new Map<string, { watermark: number; lastArrival: number | undefined }>();
    const start = (peer: PeerHandle) => {
      streaming.set(peer.name, { watermark: -Infinity, lastArrival: undefined });
      void (async () => {
        try {
          for await (const response of peer.flows.getFlows(request, { signal: abort.signal })) {
            if (response.nodeName === '') response.nodeName = peer.name;
            arrivals.push({ kind: 'response', peer: peer.name, response });
            // A slow client slows the peers' streams down (HTTP/2 flow control) rather than filling memory.
            if (arrivals.size >= MAX_QUEUED) await arrivals.whenBelow(MAX_QUEUED / 2);
          }
          arrivals.push({ kind: 'ended', peer });
        } catch (error) {
          arrivals.push({ kind: 'ended', peer, error: abort.signal.aborted ? undefined : error });
        }
      })();
    };
    // The peers' streams start before the status events go out, so nothing written after them is missed.
    for (const p of connected) start(p);
    if (connected.length > 0) yield nodeStatus(NodeState.NODE_CONNECTED, connected.map((p) => p.name));
    if (unavailable.length > 0) yield nodeStatus(NodeState.NODE_UNAVAILABLE, unavailable.map((p) => p.name));

    let relist: NodeJS.Timeout | undefined;
    if (request.follow) {
      relist = setInterval(() => {
        const fresh = options.peers().filter((p) => p.available && !streaming.has(p.name));
        if (fresh.length === 0) return;
        arrivals.push({ kind: 'status', response: nodeStatus(NodeState.NODE_CONNECTED, fresh.map((p) => p.name)) });
        for (const p of fresh) start(p);
      }, options.followRelistMs ?? 2000);
    }

    const buffer = new SortBuffer<LazyFlowsResponse>(sortBufferLength(request.number, Math.max(1, connected.length), lenMax), drainMs);
    const quietMs = request.follow ? (options.followQuietMs ?? 100) : Infinity;
    const lowWatermark = (t: number) => {
      let low = Infinity;
      for (const s of streaming.values()) {
        const quiet = s.lastArrival !== undefined && t - s.lastArrival >= quietMs;
        if (!quiet) low = Math.min(low, s.watermark);
      }
      return low;
    };
    const recentErrors = new Map<string, number>();
    try {
      while (!abort.signal.aborted && (streaming.size > 0 || request.follow)) {
        for (const r of buffer.releaseUpTo(lowWatermark(now()))) yield r;
        for (const r of buffer.drainDue(now())) yield r;
        let item = arrivals.shift();
        if (!item) {
          const idleSince = now();
          const nextCheck = buffer.size > 0 && quietMs < drainMs ? quietMs : drainMs;
          await arrivals.wait(Math.min(buffer.nextDueIn(idleSince) ?? drainMs, nextCheck));
          item = arrivals.shift();
          if (!item) {
            if (now() - idleSince >= drainMs) for (const r of buffer.drainIdle(now())) yield r;
            continue;
          }
        }
        if (item.kind === 'response') {
          const s = streaming.get(item.peer);
          if (s) {
            s.watermark = Math.max(s.watermark, SortBuffer.timeOf(item.response, now()));
            s.lastArrival = now();
          }
          const released = buffer.push(item.response, now());
          if (released) yield released;
        } else if (item.kind === 'status') {
          yield item.response;
        } else {
          streaming.delete(item.peer.name);
          if (item.error === undefined) continue;
          // A node going away mid-stream is reported in the stream; the others go on. Whether it
          // went away or only failed this call is told by dialling it again.
          if (isUnavailable(item.error) || !(await item.peer.probe())) {
            item.peer.reportUnavailable(String(item.error));
            yield nodeStatus(NodeState.NODE_UNAVAILABLE, [item.peer.name]);
            continue;
          }
          const message = item.error instanceof ConnectError ? item.error.rawMessage : String(item.error);
          const last = recentErrors.get(message);
          recentErrors.set(message, now());
          if (last !== undefined && now() - last < ERROR_MERGE_WINDOW_MS) continue;
          yield nodeStatus(NodeState.NODE_ERROR, [item.peer.name], message);
        }
      }
      for (const r of buffer.drainAll()) yield r;
    } finally {
      clearInterval(relist);
      signal.removeEventListener('abort', onAbort);
      abort.abort();
    }
  }

  return {
    getFlows: (request, context) => getFlows(request, context.signal),

    async serverStatus(_request, context) {
      const all = options.peers();
      const results = await Promise.all(all.map(async (p) => ({ peer: p, status: p.available ? await statusOf(p, context.signal) : undefined })));
      const ok = results.filter((r): r is { peer: PeerHandle; status: ServerStatusResponse } => r.status !== undefined && !(r.status instanceof Error));
      const unavailable = results.filter((r) => r.status === undefined || r.status instanceof Error).map((r) => r.peer.name);
      return create(ServerStatusResponseSchema, {
        numFlows: ok.reduce((s, r) => s + r.status.numFlows, 0n),
        maxFlows: ok.reduce((s, r) => s + r.status.maxFlows, 0n),
        seenFlows: ok.reduce((s, r) => s + r.status.seenFlows, 0n),
        uptimeNs: ok.reduce((m, r) => (r.status.uptimeNs > m ? r.status.uptimeNs : m), 0n),
        flowsRate: ok.reduce((s, r) => s + r.status.flowsRate, 0),
        numConnectedNodes: ok.length,
        numUnavailableNodes: unavailable.length,
        unavailableNodes: unavailable.slice(0, MAX_UNAVAILABLE_LISTED),
        version: options.version,
      });
    },

    async getNodes(_request, context) {
      const nodes = await Promise.all(
        options.peers().map(async (p): Promise<Omit<Node, '$typeName'>> => {
          const base = { name: p.name, address: p.address, tls: { $typeName: 'observer.TLS' as const, enabled: p.tls !== undefined, serverName: p.tls?.serverName ?? '' }, version: '', uptimeNs: 0n, numFlows: 0n, maxFlows: 0n, seenFlows: 0n };
          if (!p.available) return { ...base, state: NodeState.NODE_UNAVAILABLE };
          const status = await statusOf(p, context.signal);
          if (status instanceof Error) return { ...base, state: NodeState.NODE_ERROR };
          return { ...base, state: NodeState.NODE_CONNECTED, version: status.version, uptimeNs: status.uptimeNs, numFlows: status.numFlows, maxFlows: status.maxFlows, seenFlows: status.seenFlows };
        }),
      );
      return create(GetNodesResponseSchema, { nodes });
    },

    async getNamespaces(_request, context) {
      const seen = new Map<string, Namespace>();
      await Promise.all(
        options
          .peers()
          .filter((p) => p.available)
          .map(async (p) => {
            try {
              const res = await p.client.getNamespaces({}, { signal: context.signal, timeoutMs: callTimeoutMs });
              for (const ns of res.namespaces) seen.set(`${ns.cluster}\u0000${ns.namespace}`, ns);
            } catch (err) {
              if (isUnavailable(err)) p.reportUnavailable(String(err));
            }
          }),
      );
      const namespaces = [...seen.values()].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace));
      return create(GetNamespacesResponseSchema, { namespaces });
    },

    getAgentEvents() {
      throw new ConnectError('GetAgentEvents is not implemented by hubble-relay', Code.Unimplemented);
    },
    getDebugEvents() {
      throw new ConnectError('GetDebugEvents is not implemented by hubble-relay', Code.Unimplemented);
    },
  };
}
