import { create, equals, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { MessageType, traceObservationPointNames } from '@cilium-ts/hubble';
import {
  DropReason,
  EventTypeFilterSchema,
  FlowFilterSchema,
  FlowFilter_ExperimentalSchema,
  HTTPHeaderSchema,
  NetworkInterfaceSchema,
  TCPFlagsSchema,
  TrafficDirection,
  Verdict,
  WorkloadSchema,
  type EventTypeFilter,
  type FlowFilter,
  type Workload,
} from '@cilium-ts/proto';
import { CliError } from '../cli-error.js';

type Apply = (f: FlowFilter) => void;

/**
 * One side of the selection (allow or deny list) as upstream's CLI builds it: a pair of filters,
 * "left" for the source reading of two-sided flags and "right" for the destination reading. They
 * collapse into one filter when equal, else the pair is ORed: `--ip X` matches either direction.
 */
class FilterPair {
  private left: FlowFilter | undefined;
  private right: FlowFilter | undefined;
  applyLeft(fn: Apply): void {
    fn((this.left ??= create(FlowFilterSchema)));
  }
  applyRight(fn: Apply): void {
    fn((this.right ??= create(FlowFilterSchema)));
  }
  apply(fn: Apply): void {
    this.applyLeft(fn);
    this.applyRight(fn);
  }
  filters(): FlowFilter[] {
    if (!this.left || !this.right) return [this.left, this.right].filter((f): f is FlowFilter => f !== undefined);
    return equals(FlowFilterSchema, this.left, this.right) ? [this.left] : [this.left, this.right];
  }
}

type SideField = 'Ip' | 'Pod' | 'Fqdn' | 'Label' | 'Service' | 'Workload' | 'Identity' | 'ClusterName' | 'Port';
type Side = { source: (f: FlowFilter, v: string) => void; destination: (f: FlowFilter, v: string) => void };

const identityValue = (flag: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new CliError(`--${flag}: "${v}" is not a numeric security identity`);
  return n;
};

// `[kind/]name`
function workload(v: string): Workload {
  const i = v.indexOf('/');
  return create(WorkloadSchema, i < 0 ? { name: v } : { kind: v.slice(0, i), name: v.slice(i + 1) });
}

function sided(field: SideField, flag: string): Side {
  switch (field) {
    case 'Identity':
      return { source: (f, v) => f.sourceIdentity.push(identityValue(flag, v)), destination: (f, v) => f.destinationIdentity.push(identityValue(flag, v)) };
    case 'Workload':
      return { source: (f, v) => f.sourceWorkload.push(workload(v)), destination: (f, v) => f.destinationWorkload.push(workload(v)) };
    case 'ClusterName':
      return { source: (f, v) => f.sourceClusterName.push(v), destination: (f, v) => f.destinationClusterName.push(v) };
    default: {
      const src = `source${field}` as const;
      const dst = `destination${field}` as const;
      return { source: (f, v) => f[src].push(v), destination: (f, v) => f[dst].push(v) };
    }
  }
}

// Flags with a source/destination reading: `--X` (either side), `--from-X`, `--to-X`.
const sidedFlags: Record<string, SideField> = {
  ip: 'Ip',
  pod: 'Pod',
  fqdn: 'Fqdn',
  label: 'Label',
  service: 'Service',
  workload: 'Workload',
  identity: 'Identity',
  cluster: 'ClusterName',
  port: 'Port',
};

const eventTypes: Record<string, number> = {
  capture: MessageType.capture,
  drop: MessageType.drop,
  l7: MessageType.accessLog,
  'policy-verdict': MessageType.policyVerdict,
  trace: MessageType.trace,
  'trace-sock': MessageType.traceSock,
  debug: MessageType.debug,
  agent: 130,
};

function enumValue(flag: string, value: string, values: Record<string, string | number>): number {
  const v = values[value.toUpperCase()];
  if (typeof v !== 'number') throw new CliError(`--${flag}: unknown value "${value}" (one of ${Object.keys(values).filter((k) => Number.isNaN(Number(k))).join(', ')})`);
  return v;
}

const tcpFlagNames = ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

/** Builds the allow and deny lists from filter flags given in command-line order. */
export class ObserveFilters {
  private readonly allow = new FilterPair();
  private readonly deny = new FilterPair();
  private negateNext = false;
  private readonly extraAllow: FlowFilter[] = [];
  private readonly extraDeny: FlowFilter[] = [];
  private readonly namespaces: { value: string; side: 'both' | 'from' | 'to'; negate: boolean }[] = [];
  private readonly pods: { value: string; side: 'both' | 'from' | 'to'; negate: boolean }[] = [];

  /** `--not`: the next filter flag goes to the deny list. */
  not(): void {
    this.negateNext = true;
  }

  private pair(): FilterPair {
    const p = this.negateNext ? this.deny : this.allow;
    this.negateNext = false;
    return p;
  }

  /** One filter flag (long name without dashes) and its value. */
  add(flag: string, value: string): void {
    const base = flag.replace(/^(from|to)-/, '');
    const side = flag.startsWith('from-') ? 'from' : flag.startsWith('to-') ? 'to' : 'both';
    if (base === 'namespace' || base === 'pod') {
      // Resolved in build(): a pod without a namespace takes the one from -n, as upstream does.
      (base === 'namespace' ? this.namespaces : this.pods).push({ value, side, negate: this.negateNext });
      this.negateNext = false;
      return;
    }
    const field = sidedFlags[base];
    if (field) {
      this.addSided(this.pair(), sided(field, flag), side, value);
      return;
    }
    const p = this.pair();
    switch (flag) {
      case 'snat-ip':
        return p.apply((f) => f.sourceIpXlated.push(value));
      case 'node-name':
        return p.apply((f) => f.nodeName.push(value));
      case 'node-label':
        return p.apply((f) => f.nodeLabels.push(value));
      case 'protocol':
        return p.apply((f) => f.protocol.push(value.toLowerCase()));
      case 'verdict': {
        const v = enumValue(flag, value, Verdict as unknown as Record<string, number>);
        return p.apply((f) => f.verdict.push(v));
      }
      case 'drop-reason-desc': {
        const v = enumValue(flag, value, DropReason as unknown as Record<string, number>);
        return p.apply((f) => f.dropReasonDesc.push(v));
      }
      case 'traffic-direction': {
        const v = enumValue(flag, value, TrafficDirection as unknown as Record<string, number>);
        return p.apply((f) => f.trafficDirection.push(v));
      }
      case 'type':
        return p.apply((f) => f.eventType.push(parseEventType(value)));
      case 'http-status':
        return p.apply((f) => f.httpStatusCode.push(value));
      case 'http-method':
        return p.apply((f) => f.httpMethod.push(value));
      case 'http-path':
        return p.apply((f) => f.httpPath.push(value));
      case 'http-url':
        return p.apply((f) => f.httpUrl.push(value));
      case 'http-header': {
        const i = value.indexOf(':');
        if (i <= 0) throw new CliError(`--http-header: "${value}" is not key:value`);
        return p.apply((f) => f.httpHeader.push(create(HTTPHeaderSchema, { key: value.slice(0, i), value: value.slice(i + 1) })));
      }
      case 'tcp-flags': {
        const flags: Record<string, boolean> = {};
        for (const name of value.split(',')) {
          const upper = name.trim().toUpperCase();
          if (!(tcpFlagNames as readonly string[]).includes(upper)) throw new CliError(`--tcp-flags: unknown flag "${name}" (one of ${tcpFlagNames.join(', ')})`);
          flags[upper] = true;
        }
        return p.apply((f) => f.tcpFlags.push(create(TCPFlagsSchema, flags)));
      }
      case 'trace-id':
        return p.apply((f) => f.traceId.push(value));
      case 'ip-trace-id':
        return p.apply((f) => f.ipTraceId.push(BigInt(value)));
      case 'uuid':
        return p.apply((f) => f.uuid.push(value));
      case 'interface':
        return p.apply((f) => f.interface.push(create(NetworkInterfaceSchema, { name: value })));
      case 'ip-version': {
        const v = { '4': 1, v4: 1, ipv4: 1, '6': 2, v6: 2, ipv6: 2 }[value.toLowerCase()];
        if (v === undefined) throw new CliError(`--ip-version: "${value}" is not 4 or 6`);
        return p.apply((f) => f.ipVersion.push(v));
      }
      case 'encrypted':
      case 'unencrypted':
        return p.apply((f) => f.encrypted.push(flag === 'encrypted'));
      case 'cel-expression':
        return p.apply((f) => {
          f.experimental ??= create(FlowFilter_ExperimentalSchema);
          f.experimental.celExpression.push(value);
        });
      default:
        throw new CliError(`observe: unknown filter flag --${flag}`);
    }
  }

  /** `--allowlist` / `--denylist`: a FlowFilter in upstream's JSON. */
  addJson(list: 'allow' | 'deny', json: string): void {
    let filter: FlowFilter;
    try {
      filter = fromJson(FlowFilterSchema, JSON.parse(json) as JsonValue);
    } catch (err) {
      throw new CliError(`--${list}list: ${(err as Error).message}`);
    }
    (list === 'allow' ? this.extraAllow : this.extraDeny).push(filter);
  }

  private addSided(p: FilterPair, s: Side, side: 'both' | 'from' | 'to', value: string): void {
    if (side === 'from') p.apply((f) => s.source(f, value));
    else if (side === 'to') p.apply((f) => s.destination(f, value));
    else {
      p.applyLeft((f) => s.source(f, value));
      p.applyRight((f) => s.destination(f, value));
    }
  }

  build(): { whitelist: FlowFilter[]; blacklist: FlowFilter[] } {
    const podSide = sided('Pod', 'pod');
    for (const negate of [false, true]) {
      const p = negate ? this.deny : this.allow;
      const namespaces = this.namespaces.filter((n) => n.negate === negate);
      const pods = this.pods.filter((n) => n.negate === negate);
      if (pods.length === 0) {
        for (const n of namespaces) this.addSided(p, podSide, n.side, `${n.value}/`);
        continue;
      }
      // `--pod a -n x` means x/a; a pod that names its namespace keeps it.
      const prefixes = namespaces.length > 0 ? namespaces.map((n) => n.value) : [''];
      for (const pod of pods) {
        const values = pod.value.includes('/') ? [pod.value] : prefixes.map((ns) => (ns ? `${ns}/${pod.value}` : pod.value));
        for (const v of values) this.addSided(p, podSide, pod.side, v);
      }
    }
    return { whitelist: [...this.allow.filters(), ...this.extraAllow], blacklist: [...this.deny.filters(), ...this.extraDeny] };
  }
}

/** `-t TYPE[:SUBTYPE]`, e.g. `drop`, `trace:to-endpoint`, `l7`. */
export function parseEventType(value: string): EventTypeFilter {
  const [name = '', subName] = value.split(':', 2);
  const type = eventTypes[name];
  if (type === undefined) throw new CliError(`--type: unknown type "${name}" (one of ${Object.keys(eventTypes).join(', ')})`);
  if (subName === undefined) return create(EventTypeFilterSchema, { type });
  const subType = type === MessageType.trace ? traceObservationPointNames.indexOf(subName) : Number.isInteger(Number(subName)) ? Number(subName) : -1;
  if (subType < 0) throw new CliError(`--type: unknown sub-type "${subName}" of ${name}${type === MessageType.trace ? ` (one of ${traceObservationPointNames.join(', ')})` : ''}`);
  return create(EventTypeFilterSchema, { type, matchSubType: true, subType });
}
