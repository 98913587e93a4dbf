export { FilterError } from './filters/filter-error.js';
export { compileFlowFilter, compileFlowFilters, compileFlowSelection, type FlowPredicate } from './filters/flow-filter.js';
export { parseLabelSelector, type LabelSelector } from './filters/label-selector.js';
export { DEFAULT_RING_CAPACITY, RingBuffer, RingReader, type HubbleEvent, type RingRead } from './ring-buffer.js';
export { compileFieldMask } from './observer/field-mask.js';
export {
  compileFlowsRequest,
  getAgentEvents,
  getDebugEvents,
  getFlows,
  selectEvents,
  timestampToMs,
  type CompiledFlowsRequest,
  type EventWindow,
  type StreamOptions,
} from './observer/get-flows.js';
export { InvalidRequestError } from './observer/invalid-request-error.js';
export { NamespaceTracker } from './observer/namespace-tracker.js';
export { serverStatus, type ServerStatusOptions } from './observer/server-status.js';
export { FlowPrinter, groupDigits, type OutputFormat, type PrinterOptions, type TextSink } from './printer/printer.js';
export { formatGoTime, namedTimeLayouts, timeLayout } from './printer/go-time.js';
export {
  DROP_MIN,
  MessageType,
  dropReasonText,
  policyMatchTypeName,
  traceObservationPointName,
  traceObservationPointNames,
} from './monitor/monitor-api.js';
export {
  FlowBuilder,
  type DatapathEvent,
  type EndpointInfo,
  type FlowBuilderOptions,
  type FlowLookups,
  type PolicyAttribution,
  type PolicyQuery,
  type PolicyRef,
} from './parser/flow-builder.js';
export { decodePacket, type DecodedPacket } from './parser/packet-decoder.js';
export { HubbleMetrics, metricsHandlerNames, parseMetricsSpecs, type MetricsHandlerSpec } from './metrics/hubble-metrics.js';
export { MetricsOptionError } from './metrics/context-options.js';
export { LocalObserver, type LocalObserverOptions } from './observer/local-observer.js';
export * from './server/index.js';
