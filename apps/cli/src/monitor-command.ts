// cilium monitor [--type drop|trace|policy-verdict] [-v] [-j]: live datapath events, in the line formats of
// upstream's monitor, with the labels of both sides under -v.
import type { Command } from 'commander';
import { resolveSocketPath, streamNdjson } from '@cilium-ts/agent-api';
import { CliError } from './cli-error.js';
import type { CommandContext } from './command-context.js';

/** The parts of a Hubble flow (its JSON form) that monitor lines show. */
export interface MonitorFlow {
  verdict?: string;
  drop_reason_desc?: string;
  event_type?: { type?: number; sub_type?: number };
  source?: { ID?: number; identity?: number; labels?: string[]; namespace?: string; pod_name?: string };
  destination?: { ID?: number; identity?: number; labels?: string[]; namespace?: string; pod_name?: string };
  IP?: { source?: string; destination?: string };
  l4?: {
    TCP?: { source_port?: number; destination_port?: number; flags?: Record<string, boolean> };
    UDP?: { source_port?: number; destination_port?: number };
    ICMPv4?: { type?: number; code?: number };
    ICMPv6?: { type?: number; code?: number };
  };
  trace_observation_point?: string;
  trace_reason?: string;
  traffic_direction?: string;
  policy_match_type?: number;
  interface?: { index?: number };
  Summary?: string;
}

const TYPES = ['drop', 'trace', 'policy-verdict'] as const;
const MATCH = ['none', 'L3-Only', 'L3-L4', 'L4-Only', 'all', 'L3-Proto', 'Proto-Only'];

function addresses(f: MonitorFlow): string {
  const l4 = f.l4?.TCP ?? f.l4?.UDP;
  const proto = f.l4?.TCP ? 'tcp' : f.l4?.UDP ? 'udp' : f.l4?.ICMPv4 ? 'icmp' : f.l4?.ICMPv6 ? 'icmpv6' : '';
  const src = l4 ? `${f.IP?.source}:${l4.source_port}` : `${f.IP?.source}`;
  const dst = l4 ? `${f.IP?.destination}:${l4.destination_port}` : `${f.IP?.destination}`;
  const flags = f.l4?.TCP?.flags ? ` ${Object.keys(f.l4.TCP.flags).filter((k) => f.l4!.TCP!.flags![k]).join(', ')}` : '';
  return `${src} -> ${dst} ${proto}${flags}`.trimEnd();
}

/** One event as upstream's `cilium monitor` prints it (the fields our datapath reports). */
export function formatMonitorLine(f: MonitorFlow): string {
  const ids = `identity ${f.source?.identity ?? 0}->${f.destination?.identity ?? 0}`;
  switch (f.event_type?.type) {
    case 1:
      return `xx drop (${dropText(f)}) to endpoint ${f.destination?.ID ?? 0}, ifindex ${f.interface?.index ?? 0}, ${ids}: ${addresses(f)}`;
    case 5:
      return `Policy verdict log: local EP ID ${f.traffic_direction === 'EGRESS' ? (f.source?.ID ?? 0) : (f.destination?.ID ?? 0)}, remote ID ${f.traffic_direction === 'EGRESS' ? (f.destination?.identity ?? 0) : (f.source?.identity ?? 0)}, ${(f.traffic_direction ?? 'unknown').toLowerCase()}, action ${f.verdict === 'DROPPED' ? 'deny' : f.verdict === 'REDIRECTED' ? 'redirect' : 'allow'}, match ${MATCH[f.policy_match_type ?? 0] ?? f.policy_match_type}, ${addresses(f)}`;
    default:
      return `-> ${(f.trace_observation_point ?? 'unknown').toLowerCase().replaceAll('_', '-')} flow ${ids} state ${(f.trace_reason ?? 'unknown').toLowerCase()} ifindex ${f.interface?.index ?? 0}: ${addresses(f)}`;
  }
}

function dropText(f: MonitorFlow): string {
  const d = f.drop_reason_desc ?? '';
  if (d === 'POLICY_DENIED') return 'Policy denied';
  if (d === 'POLICY_DENY') return 'Policy denied by denylist';
  return d ? d.charAt(0) + d.slice(1).toLowerCase().replaceAll('_', ' ') : 'unknown';
}

function labelsLine(side: string, ep: MonitorFlow['source']): string {
  const who = ep?.pod_name ? `${ep.namespace}/${ep.pod_name}` : `identity ${ep?.identity ?? 0}`;
  return `  ${side} ${who}: ${(ep?.labels ?? []).join(' ') || '(no labels)'}`;
}

export function registerMonitor(program: Command, ctx: CommandContext): void {
  program
    .command('monitor')
    .description('Display datapath events (drops, traces, policy verdicts) as they happen')
    .option('-t, --type <type...>', `only these event types (${TYPES.join(', ')})`)
    .option('-v, --verbose', "also print both sides' labels")
    .option('-j, --json', 'one JSON object (a Hubble flow) per event')
    .action(async (opts: { type?: string[]; verbose?: boolean; json?: boolean }) => {
      for (const t of opts.type ?? []) if (!(TYPES as readonly string[]).includes(t)) throw new CliError(`--type ${t}: expected one of ${TYPES.join(', ')}`);
      const socket = resolveSocketPath(ctx.globalsHost(), ctx.io.env);
      const query = opts.type?.length ? `?type=${opts.type.join(',')}` : '';
      ctx.io.err('Listening for events... Press Ctrl-C to quit');
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      await streamNdjson<MonitorFlow>(
        socket,
        `/v1/monitor${query}`,
        (f) => {
          if (opts.json) return ctx.io.out(JSON.stringify(f));
          ctx.io.out(formatMonitorLine(f));
          if (opts.verbose) {
            ctx.io.out(labelsLine('source', f.source));
            ctx.io.out(labelsLine('destination', f.destination));
          }
        },
        stop.signal,
      );
    });
}
