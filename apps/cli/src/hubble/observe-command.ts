import { create, fromJsonString } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { FlowPrinter, compileFlowSelection, type OutputFormat } from '@cilium-ts/hubble';
import { FlowFilterSchema, GetFlowsRequestSchema, GetFlowsResponseSchema, Observer, toHubbleJson, type GetFlowsRequest } from '@cilium-ts/proto';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { CliError } from '../cli-error.js';
import { addServerFlags, connect, type ServerOptions } from './connection.js';
import type { HubbleIO } from './hubble-io.js';
import { ObserveFilters } from './observe-filters.js';
import { parseTimeFlag } from './time-flags.js';

/** Fields the text outputs print; asking only for them keeps responses small (`--use-default-field-masks`). */
export const defaultFieldMask: readonly string[] = [
  'time', 'verdict', 'drop_reason_desc', 'ethernet', 'IP', 'l4',
  'source.identity', 'source.namespace', 'source.pod_name', 'destination.identity', 'destination.namespace', 'destination.pod_name',
  'Type', 'node_name', 'l7', 'event_type', 'source_service', 'destination_service', 'is_reply', 'Summary', 'ip_trace_id',
  'source_names', 'destination_names', 'traffic_direction', 'policy_match_type', 'auth_type', 'sock_xlate_point', 'debug_capture_point',
  'egress_allowed_by', 'ingress_allowed_by', 'egress_denied_by', 'ingress_denied_by',
];

const sidedBases = ['ip', 'pod', 'fqdn', 'label', 'service', 'workload', 'identity', 'cluster', 'port', 'namespace'];
const valueFilters = [
  'snat-ip', 'ip-version', 'node-name', 'node-label', 'protocol', 'tcp-flags', 'verdict', 'drop-reason-desc', 'http-status', 'http-method',
  'http-path', 'http-url', 'http-header', 'trace-id', 'ip-trace-id', 'uuid', 'traffic-direction', 'interface', 'cel-expression',
];
const MAX_U64 = 2n ** 64n - 1n;

const parseCount = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new CliError(`--${flag}: "${v}" is not a number`);
  return BigInt(v);
};
const parseBool = (v: string | undefined) => v === undefined || v === 'true' || v === '1';

interface ObserveOptions extends ServerOptions {
  last?: bigint;
  first?: bigint;
  all?: boolean;
  follow?: boolean;
  since?: string;
  until?: string;
  output: OutputFormat;
  timeFormat: string;
  printNodeName?: boolean;
  printPolicyNames?: boolean;
  ipTranslation: boolean;
  numeric?: boolean;
  color: string;
  fieldMask?: string[];
  useDefaultFieldMasks: boolean;
  printRawFilters?: boolean;
  inputFile?: string;
  debug?: boolean;
}

/** `hubble observe [flows]`: flows from the server (or a jsonpb file) printed like upstream. */
export function observeCommand(io: HubbleIO): Command {
  const filters = new ObserveFilters();
  const cmd = new Command('observe')
    .description('Observe flows of a Hubble server')
    .argument('[what]', 'flows (the default), agent-events or debug-events', 'flows')
    .option('--last <n>', 'get the last N flows (per node behind a relay); default 20 unless following or given a time range', parseCount('last'))
    .option('--first <n>', 'get the first N flows stored in the ring', parseCount('first'))
    .option('--all', 'get all flows stored in the ring')
    .option('-f, --follow', 'follow flows as they arrive')
    .option('--since <time>', 'flows since this time (e.g. 3s, 1h43m, 2006-01-02, RFC3339)')
    .option('--until <time>', 'flows until this time (ignored with --follow)')
    .option('--not', 'put the next filter into the deny list')
    .option('-A, --all-namespaces', 'flows of every namespace (no namespace filter)')
    .option('-4, --ipv4', 'only IPv4 flows')
    .option('-6, --ipv6', 'only IPv6 flows')
    .option('--encrypted', 'only encrypted flows')
    .option('--unencrypted', 'only unencrypted flows')
    .option('--allowlist <json>', 'an allow-list FlowFilter as JSON (repeatable)')
    .option('--denylist <json>', 'a deny-list FlowFilter as JSON (repeatable)')
    .option('--print-raw-filters', 'print the filters as YAML and exit without a call')
    .addOption(new Option('-o, --output <format>', 'compact, dict, json, jsonpb or table').choices(['compact', 'dict', 'json', 'jsonpb', 'table']).default('compact'))
    .option('--time-format <layout>', 'StampMilli, RFC3339, RFC3339Milli, ... or a Go layout', 'StampMilli')
    .option('--print-node-name', 'print the node name in front of each flow')
    .option('--print-policy-names', 'print the policies that allowed or denied each flow')
    .option('--ip-translation [bool]', 'show names instead of IP addresses', parseBool, true)
    .option('--numeric', 'show IP addresses and numbers only')
    .option('--color <when>', 'auto, always or never', 'auto')
    .option('--field-mask <paths>', 'fields to ask for (json and jsonpb only; comma separated)', (v: string) => v.split(','))
    .option('--use-default-field-masks [bool]', 'ask only for the fields the text outputs print', parseBool, true)
    .option('--input-file <file>', 'read jsonpb flows from a file (- for stdin) instead of a server')
    .option('-D, --debug', 'also print informational node status events');
  for (const base of sidedBases) {
    const short = base === 'label' ? '-l, ' : base === 'namespace' ? '-n, ' : '';
    cmd.option(`${short}--${base} <value>`, `flows from or to this ${base} (repeatable)`);
    cmd.option(`--from-${base} <value>`, `flows from this ${base}`);
    cmd.option(`--to-${base} <value>`, `flows to this ${base}`);
  }
  cmd.option('-t, --type <type[:subtype]>', 'event type: capture, drop, l7, policy-verdict, trace[:to-endpoint|...], trace-sock');
  for (const f of valueFilters) cmd.option(`--${f} <value>`, `filter on ${f.replaceAll('-', ' ')} (repeatable)`);
  addServerFlags(cmd, io.env);

  // Filters are taken in command-line order, because --not applies to the flag that follows it.
  cmd.on('option:not', () => filters.not());
  for (const base of sidedBases) for (const f of [base, `from-${base}`, `to-${base}`]) cmd.on(`option:${f}`, (v: string) => filters.add(f, v));
  for (const f of [...valueFilters, 'type']) cmd.on(`option:${f}`, (v: string) => filters.add(f, v));
  cmd.on('option:ipv4', () => filters.add('ip-version', '4'));
  cmd.on('option:ipv6', () => filters.add('ip-version', '6'));
  cmd.on('option:encrypted', () => filters.add('encrypted', 'true'));
  cmd.on('option:unencrypted', () => filters.add('unencrypted', 'true'));
  cmd.on('option:allowlist', (v: string) => filters.addJson('allow', v));
  cmd.on('option:denylist', (v: string) => filters.addJson('deny', v));

  cmd.action(async (what: string, o: ObserveOptions) => {
    if (what !== 'flows' && what !== 'agent-events' && what !== 'debug-events') throw new CliError(`observe ${what}: one of flows, agent-events, debug-events`);
    const { whitelist, blacklist } = filters.build();
    if (o.printRawFilters) {
      const json = (fs: typeof whitelist) => fs.map((f) => toHubbleJson(FlowFilterSchema, f));
      io.stdout.write(stringify({ allowlist: json(whitelist), denylist: json(blacklist) }));
      return;
    }
    const request = buildRequest(o, whitelist, blacklist, Date.now());
    const printer = new FlowPrinter(
      { output: o.output, nodeName: o.printNodeName, timeFormat: o.timeFormat, policyNames: o.printPolicyNames, ipTranslation: o.ipTranslation && !o.numeric, color: o.color === 'always', debug: o.debug },
      io.stdout,
      io.stderr,
    );
    try {
      if (what !== 'flows') await streamEvents(what, o, request, printer, io.signal);
      else if (o.inputFile !== undefined) readInputFile(o.inputFile, request, printer);
      else await streamFlows(o, request, printer, io.signal);
    } finally {
      printer.close();
    }
  });
  return cmd;
}

function buildRequest(o: ObserveOptions, whitelist: GetFlowsRequest['whitelist'], blacklist: GetFlowsRequest['blacklist'], now: number): GetFlowsRequest {
  if (o.first !== undefined && (o.last !== undefined || o.all || o.follow)) throw new CliError('--first cannot be combined with --last, --all or --follow');
  if (o.last !== undefined && o.all) throw new CliError('--last cannot be combined with --all');
  if (o.output === 'table' && o.follow) throw new CliError('--output table cannot be used with --follow');
  if (o.fieldMask && o.output !== 'json' && o.output !== 'jsonpb') throw new CliError('--field-mask works only with --output json or jsonpb');
  const request = create(GetFlowsRequestSchema, { whitelist, blacklist, follow: o.follow === true });
  if (o.all) request.number = MAX_U64;
  else if (o.first !== undefined) {
    request.number = o.first;
    request.first = true;
  } else if (o.last !== undefined) request.number = o.last;
  else if (!o.follow && o.since === undefined && o.until === undefined) request.number = 20n;
  if (o.since !== undefined) request.since = timestampFromMs(parseTimeFlag('since', o.since, now));
  if (o.until !== undefined && !o.follow) request.until = timestampFromMs(parseTimeFlag('until', o.until, now));
  if (o.fieldMask) request.fieldMask = { $typeName: 'google.protobuf.FieldMask', paths: o.fieldMask };
  else if (o.useDefaultFieldMasks && o.output !== 'json' && o.output !== 'jsonpb') request.fieldMask = { $typeName: 'google.protobuf.FieldMask', paths: [...defaultFieldMask] };
  return request;
}

async function streamFlows(o: ObserveOptions, request: GetFlowsRequest, printer: FlowPrinter, signal?: AbortSignal): Promise<void> {
  const { hubble } = connect(o);
  const client = createClient(Observer, hubble.transport);
  try {
    for await (const response of client.getFlows(request, { signal })) printer.write(response);
  } catch (err) {
    if (signal?.aborted && err instanceof ConnectError && err.code === Code.Canceled) return;
    throw new CliError(`observe: ${o.server}: ${err instanceof ConnectError ? err.rawMessage : String(err)}`);
  } finally {
    hubble.close();
  }
}

// Agent and debug events: the same selectors, no filters (the servers take none for them).
async function streamEvents(what: 'agent-events' | 'debug-events', o: ObserveOptions, request: GetFlowsRequest, printer: FlowPrinter, signal?: AbortSignal): Promise<void> {
  const { hubble } = connect(o);
  const client = createClient(Observer, hubble.transport);
  const window = { number: request.number, first: request.first, follow: request.follow, since: request.since, until: request.until };
  try {
    if (what === 'agent-events') for await (const r of client.getAgentEvents(window, { signal })) printer.writeAgentEvent(r);
    else for await (const r of client.getDebugEvents(window, { signal })) printer.writeDebugEvent(r);
  } catch (err) {
    if (signal?.aborted && err instanceof ConnectError && err.code === Code.Canceled) return;
    throw new CliError(`observe ${what}: ${o.server}: ${err instanceof ConnectError ? err.rawMessage : String(err)}`);
  } finally {
    hubble.close();
  }
}

// `--input-file`: jsonpb lines as `hubble observe -o jsonpb` wrote them, filtered here.
function readInputFile(file: string, request: GetFlowsRequest, printer: FlowPrinter): void {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const matches = compileFlowSelection(request.whitelist, request.blacklist);
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let response;
    try {
      response = fromJsonString(GetFlowsResponseSchema, line, { ignoreUnknownFields: true });
    } catch (err) {
      throw new CliError(`--input-file ${file}:${i + 1}: ${(err as Error).message}`);
    }
    if (response.responseTypes.case === 'flow' && !matches(response.responseTypes.value)) continue;
    printer.write(response);
  }
}
