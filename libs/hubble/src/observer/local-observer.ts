import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  GetNamespacesResponseSchema,
  LostEventSchema,
  type Flow,
  type GetFlowsRequest,
  type GetFlowsResponse,
  type GetNamespacesResponse,
  type LostEventSource,
  type ServerStatusResponse,
} from '@cilium-ts/proto';
import type { HubbleMetrics } from '../metrics/hubble-metrics.js';
import type { DatapathEvent, FlowBuilder } from '../parser/flow-builder.js';
import { RingBuffer } from '../ring-buffer.js';
import { getFlows } from './get-flows.js';
import { NamespaceTracker } from './namespace-tracker.js';
import { serverStatus } from './server-status.js';

export interface LocalObserverOptions {
  readonly nodeName: string;
  readonly version: string;
  readonly builder: FlowBuilder;
  /** `--hubble-event-buffer-capacity` (2^k-1, default 4095). */
  readonly capacity?: number;
  readonly metrics?: HubbleMetrics;
  readonly now?: () => number;
}

/**
 * The agent's Hubble pipeline without the transport: datapath events become flows, feed the
 * metrics and the namespace list, and land in the ring that GetFlows and ServerStatus read.
 */
export class LocalObserver {
  readonly ring: RingBuffer;
  private readonly namespaces = new NamespaceTracker();
  private readonly startedAt: number;
  private readonly now: () => number;

  constructor(private readonly options: LocalObserverOptions) {
    this.ring = new RingBuffer(options.capacity);
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** One datapath event in; the flow it became out. */
  observe(event: DatapathEvent): Flow {
    const flow = this.options.builder.build(event);
    this.options.metrics?.processFlow(flow);
    this.namespaces.observe(flow, event.timestamp);
    this.ring.write(flow, event.timestamp);
    return flow;
  }

  /** Events lost before reaching the ring (perf ring overruns, a full event queue). */
  recordLost(source: LostEventSource, count: number, cpu?: number): void {
    const now = this.now();
    this.options.metrics?.recordLostEvents(source, count);
    this.ring.write(create(LostEventSchema, { source, numEventsLost: BigInt(count), cpu, first: timestampFromMs(now), last: timestampFromMs(now) }), now);
  }

  getFlows(request: GetFlowsRequest, signal?: AbortSignal): AsyncGenerator<GetFlowsResponse> {
    return getFlows(this.ring, request, { nodeName: this.options.nodeName, signal, now: this.now });
  }

  serverStatus(): ServerStatusResponse {
    return serverStatus(this.ring, { startedAt: this.startedAt, version: this.options.version, now: this.now() });
  }

  getNamespaces(): GetNamespacesResponse {
    return create(GetNamespacesResponseSchema, { namespaces: this.namespaces.list(this.now()) });
  }
}
