import { Counter, Histogram, type Registry } from 'prom-client';
import type { Flow } from '@cilium-ts/proto';
import { contextLabelNames, contextLabelValues, parseContextOptions, type ContextOptions } from './context-options.js';

export const METRICS_NAMESPACE = 'hubble';

/** One `--hubble-metrics` handler (flow, drop, tcp, ...) with its counters in a registry. */
export interface FlowMetricsHandler {
  readonly name: string;
  processFlow(flow: Flow): void;
}

/** What every handler gets: its options, its context, and helpers to declare metrics. */
export class HandlerContext {
  readonly context: ContextOptions;

  constructor(
    readonly handler: string,
    readonly registry: Registry,
    readonly options: ReadonlyMap<string, string>,
  ) {
    this.context = parseContextOptions(handler, options);
  }

  get contextLabelNames(): string[] {
    return contextLabelNames(this.context);
  }

  contextValues(flow: Flow, invert = false): string[] {
    return contextLabelValues(this.context, flow, invert);
  }

  counter(name: string, help: string, labelNames: readonly string[]): Counter<string> {
    return new Counter({ name: `${METRICS_NAMESPACE}_${name}`, help, labelNames, registers: [this.registry] });
  }

  histogram(name: string, help: string, labelNames: readonly string[]): Histogram<string> {
    return new Histogram({ name: `${METRICS_NAMESPACE}_${name}`, help, labelNames, registers: [this.registry] });
  }
}
