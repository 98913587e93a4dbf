import { TrafficDirection, type Endpoint, type Flow } from '@cilium-ts/proto';

/**
 * The `sourceContext`/`destinationContext` (and their Egress/Ingress variants) and `labelsContext`
 * options of Hubble metric handlers: extra labels that say who sent or received a flow.
 */

export type ContextIdentifier = 'identity' | 'namespace' | 'pod' | 'pod-short' | 'pod-name' | 'dns' | 'ip' | 'reserved-identity' | 'workload-name' | 'app';

const identifiers: readonly ContextIdentifier[] = ['identity', 'namespace', 'pod', 'pod-short', 'pod-name', 'dns', 'ip', 'reserved-identity', 'workload-name', 'app'];

/** Allowed `labelsContext` labels, in the order their values are emitted. */
export const contextLabelsList = [
  'source_ip',
  'source_pod',
  'source_namespace',
  'source_workload',
  'source_app',
  'destination_ip',
  'destination_pod',
  'destination_namespace',
  'destination_workload',
  'destination_app',
  'traffic_direction',
] as const;

type ContextLabel = (typeof contextLabelsList)[number];

export class MetricsOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsOptionError';
  }
}

export interface ContextOptions {
  readonly source: readonly ContextIdentifier[];
  readonly sourceEgress?: readonly ContextIdentifier[];
  readonly sourceIngress?: readonly ContextIdentifier[];
  readonly destination: readonly ContextIdentifier[];
  readonly destinationEgress?: readonly ContextIdentifier[];
  readonly destinationIngress?: readonly ContextIdentifier[];
  readonly labels: ReadonlySet<ContextLabel>;
}

function parseIdentifiers(handler: string, key: string, value: string): ContextIdentifier[] {
  return value.split('|').map((v) => {
    const id = v.toLowerCase() as ContextIdentifier;
    if (!identifiers.includes(id)) throw new MetricsOptionError(`${handler}: ${key}: unknown context ${JSON.stringify(v)}`);
    return id;
  });
}

/** Reads the context options out of a handler's options (keys are case-insensitive, as upstream). */
export function parseContextOptions(handler: string, options: ReadonlyMap<string, string>): ContextOptions {
  let source: ContextIdentifier[] = [];
  let destination: ContextIdentifier[] = [];
  let sourceEgress: ContextIdentifier[] | undefined;
  let sourceIngress: ContextIdentifier[] | undefined;
  let destinationEgress: ContextIdentifier[] | undefined;
  let destinationIngress: ContextIdentifier[] | undefined;
  const labels = new Set<ContextLabel>();
  for (const [key, value] of options) {
    switch (key.toLowerCase()) {
      case 'sourcecontext':
        source = parseIdentifiers(handler, key, value);
        break;
      case 'sourceegresscontext':
        sourceEgress = parseIdentifiers(handler, key, value);
        break;
      case 'sourceingresscontext':
        sourceIngress = parseIdentifiers(handler, key, value);
        break;
      case 'destinationcontext':
        destination = parseIdentifiers(handler, key, value);
        break;
      case 'destinationegresscontext':
        destinationEgress = parseIdentifiers(handler, key, value);
        break;
      case 'destinationingresscontext':
        destinationIngress = parseIdentifiers(handler, key, value);
        break;
      case 'labelscontext':
        for (const label of value.split(',')) {
          if (!(contextLabelsList as readonly string[]).includes(label)) throw new MetricsOptionError(`${handler}: labelsContext: invalid value ${JSON.stringify(label)}`);
          labels.add(label as ContextLabel);
        }
        break;
    }
  }
  return { source, sourceEgress, sourceIngress, destination, destinationEgress, destinationIngress, labels };
}

/** Label names the options add, after the handler's own (the drop and DNS handlers put them first). */
export function contextLabelNames(o: ContextOptions): string[] {
  const names: string[] = contextLabelsList.filter((l) => o.labels.has(l));
  if (o.source.length > 0) names.push('source');
  if (o.destination.length > 0) names.push('destination');
  return names;
}

const appLabels = ['k8s:app.kubernetes.io/name=', 'k8s:k8s-app=', 'k8s:app='];

function appOf(labels: readonly string[]): string {
  for (const label of labels) {
    for (const prefix of appLabels) {
      if (label.startsWith(prefix) && label.length > prefix.length) return label.slice(prefix.length);
    }
  }
  return '';
}

function reservedOf(labels: readonly string[]): string {
  if (labels.includes('reserved:kube-apiserver')) return 'reserved:kube-apiserver';
  return labels.find((l) => l.startsWith('reserved:')) ?? '';
}

const shortPod = /^(.+?)(-[a-z0-9]+){1,2}$/;

function contextValue(id: ContextIdentifier, flow: Flow, ep: Endpoint | undefined, source: boolean): string {
  switch (id) {
    case 'namespace':
      return ep?.namespace ?? '';
    case 'identity':
      return (ep?.labels ?? []).join(',');
    case 'pod':
    case 'pod-short': {
      const name = id === 'pod' ? (ep?.podName ?? '') : (ep?.podName ?? '').replace(shortPod, '$1');
      return ep?.namespace ? `${ep.namespace}/${name}` : name;
    }
    case 'pod-name':
      return ep?.podName ?? '';
    case 'dns':
      return (source ? flow.sourceNames : flow.destinationNames).join(',');
    case 'ip':
      return (source ? flow.IP?.source : flow.IP?.destination) ?? '';
    case 'reserved-identity':
      return reservedOf(ep?.labels ?? []);
    case 'workload-name':
      return ep?.workloads[0]?.name ?? '';
    case 'app':
      return appOf(ep?.labels ?? []);
  }
}

function firstNonEmpty(ids: readonly ContextIdentifier[], flow: Flow, source: boolean): string {
  const ep = source ? flow.source : flow.destination;
  for (const id of ids) {
    const v = contextValue(id, flow, ep, source);
    if (v !== '') return v;
  }
  return '';
}

/**
 * Label values in the order of contextLabelNames. `invert` swaps source and destination, for
 * metrics counted on response flows (httpV2).
 */
export function contextLabelValues(o: ContextOptions, flow: Flow, invert = false): string[] {
  const values: string[] = [];
  if (o.labels.size > 0) {
    const src = invert ? flow.destination : flow.source;
    const dst = invert ? flow.source : flow.destination;
    const srcIp = (invert ? flow.IP?.destination : flow.IP?.source) ?? '';
    const dstIp = (invert ? flow.IP?.source : flow.IP?.destination) ?? '';
    for (const label of contextLabelsList) {
      if (!o.labels.has(label)) continue;
      switch (label) {
        case 'source_ip':
          values.push(srcIp);
          break;
        case 'source_pod':
          values.push(src?.podName ?? '');
          break;
        case 'source_namespace':
          values.push(src?.namespace ?? '');
          break;
        case 'source_workload':
          values.push(src?.workloads[0]?.name ?? '');
          break;
        case 'source_app':
          values.push(appOf(src?.labels ?? []));
          break;
        case 'destination_ip':
          values.push(dstIp);
          break;
        case 'destination_pod':
          values.push(dst?.podName ?? '');
          break;
        case 'destination_namespace':
          values.push(dst?.namespace ?? '');
          break;
        case 'destination_workload':
          values.push(dst?.workloads[0]?.name ?? '');
          break;
        case 'destination_app':
          values.push(appOf(dst?.labels ?? []));
          break;
        case 'traffic_direction':
          values.push(flow.trafficDirection === TrafficDirection.INGRESS ? 'ingress' : flow.trafficDirection === TrafficDirection.EGRESS ? 'egress' : 'unknown');
          break;
      }
    }
  }
  const ingress = flow.trafficDirection === TrafficDirection.INGRESS;
  const egress = flow.trafficDirection === TrafficDirection.EGRESS;
  const srcIds = ingress && o.sourceIngress ? o.sourceIngress : egress && o.sourceEgress ? o.sourceEgress : o.source;
  const dstIds = ingress && o.destinationIngress ? o.destinationIngress : egress && o.destinationEgress ? o.destinationEgress : o.destination;
  let srcValue = firstNonEmpty(srcIds, flow, true);
  let dstValue = firstNonEmpty(dstIds, flow, false);
  if (invert) [srcValue, dstValue] = [dstValue, srcValue];
  if (o.source.length > 0) values.push(srcValue);
  if (o.destination.length > 0) values.push(dstValue);
  return values;
}
