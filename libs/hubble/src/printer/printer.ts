import { type Timestamp } from '@bufbuild/protobuf/wkt';
import {
  AgentEventSchema,
  AgentEventTypeSchema,
  DebugEventSchema,
  DebugEventTypeSchema,
  FlowSchema,
  GetAgentEventsResponseSchema,
  GetDebugEventsResponseSchema,
  GetFlowsResponseSchema,
  LostEventSchema,
  LostEventSource,
  NodeState,
  ServerStatusResponseSchema,
  toHubbleJsonString,
  type Flow,
  type GetAgentEventsResponse,
  type GetDebugEventsResponse,
  type GetFlowsResponse,
  type LostEvent,
  type ServerStatusResponse,
} from '@cilium-ts/proto';
import { createColorer, type Colorer } from './colorer.js';
import { agentEventDetails, cpuOrNA, endpointShort, hexOrNA } from './event-details.js';
import { enumName, flowHostNames, flowTypeText, identityText, summaryText, verdictText } from './flow-text.js';
import { formatGoTime, timeLayout } from './go-time.js';
import { TabWriter } from './tab-writer.js';

export type OutputFormat = 'compact' | 'dict' | 'json' | 'jsonpb' | 'table';

export interface PrinterOptions {
  readonly output: OutputFormat;
  /** `--print-node-name` */
  readonly nodeName?: boolean;
  /** `--time-format`: a name (StampMilli, RFC3339, ...) or a Go layout. Default StampMilli. */
  readonly timeFormat?: string;
  /** `--print-policy-names` */
  readonly policyNames?: boolean;
  /** `--ip-translation` (default on): show pod, service or DNS names instead of IPs. */
  readonly ipTranslation?: boolean;
  /** `--color always` */
  readonly color?: boolean;
  /** `-D`: also print informational node status events. */
  readonly debug?: boolean;
}

/** Where output goes; process.stdout and process.stderr fit. */
export interface TextSink {
  write(text: string): unknown;
}

const DICT_SEPARATOR = '------------';
const NODE_NAMES_CUT_OFF = 50;

const LOST_SOURCE_NAMES: Readonly<Record<number, string>> = {
  [LostEventSource.UNKNOWN_LOST_EVENT_SOURCE]: 'UNKNOWN_LOST_EVENT_SOURCE',
  [LostEventSource.PERF_EVENT_RING_BUFFER]: 'PERF_EVENT_RING_BUFFER',
  [LostEventSource.OBSERVER_EVENTS_QUEUE]: 'OBSERVER_EVENTS_QUEUE',
  [LostEventSource.HUBBLE_RING_BUFFER]: 'HUBBLE_RING_BUFFER',
};
const NODE_STATE_NAMES: Readonly<Record<number, string>> = { 0: 'UNKNOWN_NODE_STATE', 1: 'NODE_CONNECTED', 2: 'NODE_UNAVAILABLE', 3: 'NODE_GONE', 4: 'NODE_ERROR' };

// Go's json.Encoder escapes these even inside MarshalJSON output; match it byte for byte.
function goJson(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
}

// Go's strings.Join with a length budget: at least one element, then " (and N more)".
function joinWithCutOff(elems: readonly string[], sep: string, target: number): string {
  let len = 0;
  let end = elems.length;
  for (let i = 0; i < elems.length; i++) {
    len += (elems[i] ?? '').length + sep.length;
    if (len > target && i > 0) {
      end = i;
      break;
    }
  }
  const joined = elems.slice(0, end).join(sep);
  const omitted = elems.length - end;
  return omitted === 0 ? joined : `${joined} (and ${omitted} more)`;
}

// Go's strconv.Quote for the printable ASCII case (node status messages).
const goQuote = (s: string) => JSON.stringify(s);

/** Thousands separators, as the hubble CLI prints counters. */
export function groupDigits(n: bigint | number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Prints GetFlows responses like `hubble observe -o compact|dict|json|jsonpb|table`. The table is
 * aligned over all rows, so it is written on close().
 */
export class FlowPrinter {
  private line = 0;
  private readonly color: Colorer;
  private readonly layout: string;
  private readonly table: TabWriter | undefined;

  constructor(
    private readonly options: PrinterOptions,
    private readonly out: TextSink,
    private readonly err: TextSink = out,
  ) {
    this.color = createColorer(options.output !== 'table' && options.color === true);
    this.layout = timeLayout(options.timeFormat ?? 'StampMilli');
    this.table = options.output === 'table' ? new TabWriter((t) => out.write(t)) : undefined;
  }

  private time(ts: Timestamp | undefined): string {
    return ts ? formatGoTime(ts, this.layout) : 'N/A';
  }

  write(response: GetFlowsResponse): void {
    const r = response.responseTypes;
    if (r.case === 'flow') this.writeFlow(response, r.value);
    else if (r.case === 'lostEvents') this.writeLost(response, r.value);
    else if (r.case === 'nodeStatus') this.writeNodeStatus(response);
  }

  writeFlow(response: GetFlowsResponse, f: Flow): void {
    const o = this.options;
    const translate = o.ipTranslation ?? true;
    switch (o.output) {
      case 'json':
        this.out.write(goJson(toHubbleJsonString(FlowSchema, f)));
        return;
      case 'jsonpb':
        this.out.write(goJson(toHubbleJsonString(GetFlowsResponseSchema, response)));
        return;
      case 'table': {
        const [src, dst] = flowHostNames(this.color, f, translate);
        if (this.line === 0) this.table?.write(`TIMESTAMP\t${o.nodeName ? 'NODE\t' : ''}SOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\n`);
        this.table?.write(
          `${this.time(f.time)}\t${o.nodeName ? `${f.nodeName}\t` : ''}${src}\t${dst}\t${flowTypeText(f)}\t${verdictText(this.color, f, o.policyNames === true)}\t${summaryText(this.color, f)}\n`,
        );
        break;
      }
      case 'dict': {
        const [src, dst] = flowHostNames(this.color, f, translate);
        let text = this.line !== 0 ? `${DICT_SEPARATOR}\n` : '';
        text += `  TIMESTAMP: ${this.time(f.time)}\n`;
        if (o.nodeName) text += `       NODE: ${f.nodeName}\n`;
        text += `     SOURCE: ${src}\nDESTINATION: ${dst}\n       TYPE: ${flowTypeText(f)}\n    VERDICT: ${verdictText(this.color, f, o.policyNames === true)}\n    SUMMARY: ${summaryText(this.color, f)}\n`;
        this.out.write(text);
        break;
      }
      case 'compact': {
        let [src, dst] = flowHostNames(this.color, f, translate);
        let srcId = identityText(this.color, f.source?.identity ?? 0);
        let dstId = identityText(this.color, f.destination?.identity ?? 0);
        let arrow = '->';
        if (f.isReply === undefined) arrow = '<>';
        else if (f.isReply) {
          [src, dst] = [dst, src];
          [srcId, dstId] = [dstId, srcId];
          arrow = '<-';
        }
        const node = o.nodeName ? ` [${f.nodeName}]` : '';
        this.out.write(
          `${this.time(f.time)}${node}: ${src} ${srcId} ${arrow} ${dst} ${dstId} ${flowTypeText(f)} ${verdictText(this.color, f, o.policyNames === true)} (${summaryText(this.color, f)})\n`,
        );
        break;
      }
    }
    this.line++;
  }

  writeLost(response: GetFlowsResponse, lost: LostEvent): void {
    const o = this.options;
    const source = enumName(LOST_SOURCE_NAMES, lost.source);
    const cpu = lost.cpu ?? 0;
    switch (o.output) {
      case 'json':
        this.out.write(goJson(toHubbleJsonString(LostEventSchema, lost)));
        return;
      case 'jsonpb':
        this.out.write(goJson(toHubbleJsonString(GetFlowsResponseSchema, response)));
        return;
      case 'table':
        if (this.line === 0) this.table?.write(`TIMESTAMP\t${o.nodeName ? 'NODE\t' : ''}SOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\n`);
        this.table?.write(`\t${o.nodeName ? '\t' : ''}${source}\t\tEVENTS LOST\t\tCPU(${cpu}) - ${lost.numEventsLost}\n`);
        break;
      case 'dict': {
        let text = this.line !== 0 ? `${DICT_SEPARATOR}\n` : '';
        text += '  TIMESTAMP: \n';
        if (o.nodeName) text += '       NODE: \n';
        text += `     SOURCE: ${source}\n       TYPE: EVENTS LOST\n    VERDICT: \n    SUMMARY: CPU(${cpu}) - ${lost.numEventsLost}\n`;
        this.out.write(text);
        break;
      }
      case 'compact':
        this.out.write(`EVENTS LOST: ${source} CPU(${cpu}) ${lost.numEventsLost}\n`);
        break;
    }
    this.line++;
  }

  /** Node status goes to stderr; without debug only errors and unavailable nodes are shown. */
  writeNodeStatus(response: GetFlowsResponse): void {
    if (response.responseTypes.case !== 'nodeStatus') return;
    const s = response.responseTypes.value;
    const o = this.options;
    if (!o.debug && s.stateChange !== NodeState.NODE_ERROR && s.stateChange !== NodeState.NODE_UNAVAILABLE) return;
    const names = joinWithCutOff(s.nodeNames, ', ', NODE_NAMES_CUT_OFF);
    switch (o.output) {
      case 'jsonpb':
        this.err.write(goJson(toHubbleJsonString(GetFlowsResponseSchema, response)));
        return;
      case 'dict': {
        if (this.line !== 0) this.out.write(`${DICT_SEPARATOR}\n`);
        else this.line++;
        const message = s.message !== '' ? goQuote(s.message) : 'N/A';
        this.err.write(`  TIMESTAMP: ${this.time(response.time)}\n      STATE: ${enumName(NODE_STATE_NAMES, s.stateChange)}\n      NODES: ${names}\n    MESSAGE: ${message}\n`);
        return;
      }
      case 'table':
      case 'compact': {
        const n = s.nodeNames.length;
        const prefix = `${this.time(response.time)} [${response.nodeName}]`;
        let msg: string;
        switch (s.stateChange) {
          case NodeState.NODE_CONNECTED:
            msg = `${prefix}: Receiving flows from ${n} nodes: ${names}`;
            break;
          case NodeState.NODE_UNAVAILABLE:
            msg = `${prefix}: ${n} nodes are unavailable: ${names}`;
            break;
          case NodeState.NODE_GONE:
            msg = `${prefix}: ${n} nodes removed from cluster: ${names}`;
            break;
          case NodeState.NODE_ERROR:
            msg = `${prefix}: Error ${goQuote(s.message)} on ${n} nodes: ${names}`;
            break;
          default:
            msg = `${prefix}: unknown node status event: ${toHubbleJsonString(GetFlowsResponseSchema, response)}`;
        }
        this.err.write(msg + '\n');
        return;
      }
      default:
        return;
    }
  }

  /** `hubble observe agent-events` */
  writeAgentEvent(response: GetAgentEventsResponse): void {
    const e = response.agentEvent;
    if (!e) return;
    const o = this.options;
    const type = AgentEventTypeSchema.value[e.type]?.name ?? String(e.type);
    const details = agentEventDetails(e, (ts) => this.time(ts));
    switch (o.output) {
      case 'json':
        this.out.write(goJson(toHubbleJsonString(AgentEventSchema, e)));
        return;
      case 'jsonpb':
        this.out.write(goJson(toHubbleJsonString(GetAgentEventsResponseSchema, response)));
        return;
      case 'dict': {
        // Upstream writes this separator without a line break; kept so output matches.
        let text = this.line !== 0 ? DICT_SEPARATOR : '';
        text += `  TIMESTAMP: ${this.time(response.time)}\n`;
        if (o.nodeName) text += `       NODE: ${response.nodeName}\n`;
        this.out.write(`${text}       TYPE: ${type}\n    DETAILS: ${details}\n`);
        break;
      }
      case 'table':
        if (this.line === 0) this.table?.write(`TIMESTAMP\t${o.nodeName ? 'NODE\t' : ''}TYPE\tDETAILS\n`);
        this.table?.write(`${this.time(response.time)}\t${o.nodeName ? `${response.nodeName}\t` : ''}${type}\t${details}\n`);
        break;
      case 'compact':
        this.out.write(`${this.time(response.time)}${o.nodeName ? ` [${response.nodeName}]` : ''}: ${type} (${details})\n`);
        break;
    }
    this.line++;
  }

  /** `hubble observe debug-events` */
  writeDebugEvent(response: GetDebugEventsResponse): void {
    const e = response.debugEvent;
    if (!e) return;
    const o = this.options;
    const type = DebugEventTypeSchema.value[e.type]?.name ?? String(e.type);
    const from = endpointShort(e.source);
    const mark = hexOrNA(e.hash);
    const cpu = cpuOrNA(e.cpu);
    const message = this.color.escape(e.message);
    switch (o.output) {
      case 'json':
        this.out.write(goJson(toHubbleJsonString(DebugEventSchema, e)));
        return;
      case 'jsonpb':
        this.out.write(goJson(toHubbleJsonString(GetDebugEventsResponseSchema, response)));
        return;
      case 'dict': {
        let text = this.line !== 0 ? DICT_SEPARATOR : '';
        text += `  TIMESTAMP: ${this.time(response.time)}\n`;
        if (o.nodeName) text += `       NODE: ${response.nodeName}\n`;
        this.out.write(`${text}       TYPE: ${type}\n       FROM: ${from}\n       MARK: ${mark}\n        CPU: ${cpu}\n    MESSAGE: ${message}\n`);
        break;
      }
      case 'table':
        if (this.line === 0) this.table?.write(`TIMESTAMP\t${o.nodeName ? 'NODE\t' : ''}FROM\t\tTYPE\tCPU/MARK\tMESSAGE\n`);
        this.table?.write(`${this.time(response.time)}\t${o.nodeName ? `${response.nodeName}\t` : ''}${from}\t\t${type}\t${cpu} ${mark}\t${message}\n`);
        break;
      case 'compact':
        this.out.write(`${this.time(response.time)}${o.nodeName ? ` [${response.nodeName}]` : ''}: ${from} ${type} MARK: ${mark} CPU: ${cpu} (${message})\n`);
        break;
    }
    this.line++;
  }

  /** `hubble status` body for the compact output (the default). */
  writeServerStatus(res: ServerStatusResponse): void {
    if (this.options.output === 'json' || this.options.output === 'jsonpb') {
      this.out.write(goJson(toHubbleJsonString(ServerStatusResponseSchema, res)));
      return;
    }
    let flowsPerSec = res.flowsRate > 0 ? res.flowsRate.toFixed(2) : 'N/A';
    const ratio = res.maxFlows > 0n ? ` (${((Number(res.numFlows) / Number(res.maxFlows)) * 100).toFixed(2)}%)` : '';
    let text = `Current/Max Flows: ${groupDigits(res.numFlows)}/${groupDigits(res.maxFlows)}${ratio}\n`;
    const uptimeSeconds = Number(res.uptimeNs) / 1e9;
    if (flowsPerSec === 'N/A' && uptimeSeconds > 0) flowsPerSec = (Number(res.seenFlows) / uptimeSeconds).toFixed(2);
    text += `Flows/s: ${flowsPerSec}\n`;
    const connected = res.numConnectedNodes;
    const unavailable = res.numUnavailableNodes;
    if (connected !== undefined) text += `Connected Nodes: ${connected}${unavailable !== undefined ? `/${unavailable + connected}` : ''}\n`;
    if (unavailable !== undefined && unavailable > 0) {
      if (res.unavailableNodes.length > 0) {
        const names = [...res.unavailableNodes].sort();
        if (unavailable > names.length) names.push(`and ${unavailable - names.length} more...`);
        text += `Unavailable Nodes: ${unavailable}\n  - ${names.join('\n  - ')}\n`;
      } else {
        text += `Unavailable Nodes: ${unavailable}\n`;
      }
    }
    this.out.write(text);
  }

  /** Writes the aligned table, if any. */
  close(): void {
    this.table?.flush();
  }
}
