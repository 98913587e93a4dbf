import { Counter, Registry } from 'prom-client';
import { LostEventSource, type Flow } from '@cilium-ts/proto';
import { MetricsOptionError } from './context-options.js';
import { HandlerContext, METRICS_NAMESPACE, type FlowMetricsHandler } from './handler.js';
import { dnsHandler, dropHandler, flowHandler, httpHandler, icmpHandler, policyHandler, portDistributionHandler, tcpHandler } from './handlers.js';

const factories: Readonly<Record<string, (h: HandlerContext) => FlowMetricsHandler>> = {
  flow: flowHandler,
  drop: dropHandler,
  tcp: tcpHandler,
  'port-distribution': portDistributionHandler,
  icmp: icmpHandler,
  policy: policyHandler,
  dns: dnsHandler,
  http: (h) => httpHandler(h, false),
  httpV2: (h) => httpHandler(h, true),
};

export const metricsHandlerNames: readonly string[] = Object.keys(factories);

export interface MetricsHandlerSpec {
  readonly name: string;
  readonly options: ReadonlyMap<string, string>;
}

/**
 * Parses `--hubble-metrics` values: space- or comma-free handler specs like
 * `dns:query;ignoreAAAA`, `drop:sourceContext=pod;destinationContext=dns|ip`, `flow`.
 */
export function parseMetricsSpecs(value: string | readonly string[]): MetricsHandlerSpec[] {
  const items = typeof value === 'string' ? value.split(/\s+/) : value.flatMap((v) => v.split(/\s+/));
  return items
    .filter((item) => item !== '')
    .map((item) => {
      const colon = item.indexOf(':');
      const name = colon === -1 ? item : item.slice(0, colon);
      const options = new Map<string, string>();
      if (colon !== -1) {
        for (const opt of item.slice(colon + 1).split(';')) {
          if (opt === '') continue;
          const eq = opt.indexOf('=');
          options.set(eq === -1 ? opt : opt.slice(0, eq), eq === -1 ? '' : opt.slice(eq + 1));
        }
      }
      if (!factories[name]) throw new MetricsOptionError(`--hubble-metrics: unknown handler ${JSON.stringify(name)} (known: ${metricsHandlerNames.join(', ')})`);
      return { name, options };
    });
}

const lostSources: Readonly<Record<number, string>> = {
  [LostEventSource.PERF_EVENT_RING_BUFFER]: 'perf_event_ring_buffer',
  [LostEventSource.OBSERVER_EVENTS_QUEUE]: 'observer_events_queue',
  [LostEventSource.HUBBLE_RING_BUFFER]: 'hubble_ring_buffer',
};

/**
 * Hubble's flow metrics (`hubble_*`) in a prom-client registry: the enabled handlers, plus
 * `hubble_lost_events_total`, which is always registered.
 */
export class HubbleMetrics {
  readonly registry: Registry;
  private readonly handlers: FlowMetricsHandler[];
  private readonly lostEvents: Counter<'source'>;

  constructor(specs: readonly MetricsHandlerSpec[] | string, registry: Registry = new Registry()) {
    this.registry = registry;
    const parsed = typeof specs === 'string' ? parseMetricsSpecs(specs) : specs;
    this.handlers = parsed.map((spec) => {
      const factory = factories[spec.name];
      if (!factory) throw new MetricsOptionError(`--hubble-metrics: unknown handler ${JSON.stringify(spec.name)}`);
      return factory(new HandlerContext(spec.name, registry, spec.options));
    });
    this.lostEvents = new Counter({ name: `${METRICS_NAMESPACE}_lost_events_total`, help: 'Number of lost events', labelNames: ['source'], registers: [registry] });
  }

  get enabled(): string[] {
    return this.handlers.map((h) => h.name);
  }

  processFlow(flow: Flow): void {
    for (const h of this.handlers) h.processFlow(flow);
  }

  recordLostEvents(source: LostEventSource, count: number): void {
    const label = lostSources[source];
    if (label) this.lostEvents.labels(label).inc(count);
  }
}
