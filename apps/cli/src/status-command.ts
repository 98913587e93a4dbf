// cilium status [--verbose]: the agent's health in upstream's layout.
import type { Command } from 'commander';
import type { StatusResponse } from '@cilium-ts/agent-api';
import type { CommandContext } from './command-context.js';
import { formatKeyValues, formatTable } from './table.js';

export function formatStatus(s: StatusResponse, verbose: boolean): string {
  const healthy = s.controllers.filter((c) => c.status['consecutive-failure-count'] === 0).length;
  const routing = s.routing.mode === 'vxlan' ? 'Network: Tunnel [vxlan]' : 'Network: Native';
  const pairs: [string, string][] = [
    ['KVStore', `${s.kvstore.state}   ${s.kvstore.msg}`],
    ['Kubernetes', `${s.kubernetes.state}   ${s.kubernetes.msg}`],
    ['Cilium', `${s.cilium.state}   ${s.cilium.msg}`],
    ['Node', s.cluster.self],
    ['IPAM', s.ipam.status],
    ['Routing', `${routing}   Host: ${s['host-routing'].mode}`],
    ['Policy enforcement', s['policy-enforcement']],
    ['Endpoints', String(s['endpoint-count'])],
    ['Controller Status', `${healthy}/${s.controllers.length} healthy`],
    ['Hubble', `${s.hubble.state}   ${s.hubble.msg}`],
    ['Cluster health', `${s.cluster.nodes.length} node(s) known`],
  ];
  let text = formatKeyValues(pairs);
  // Failing modules are always shown, as upstream lists failing controllers.
  const failing = s.modules.filter((m) => m.level !== 'ok');
  if (!verbose && failing.length) {
    text += '\nFailing modules:\n' + failing.map((m) => `  ${m.module}: ${m.level}: ${m.message}`).join('\n');
  }
  if (verbose) {
    const allocs = Object.entries(s.ipam.allocations);
    text += `\nAllocated addresses:${allocs.length ? '' : ' none'}`;
    for (const [ip, owner] of allocs) text += `\n  ${ip} (${owner || 'no owner'})`;
    text += '\nModules:\n' + formatTable(['  Name', 'Level', 'Message'], s.modules.map((m) => [`  ${m.module}`, m.level, m.message]));
  }
  return text;
}

export function registerStatus(program: Command, ctx: CommandContext): void {
  program
    .command('status')
    .description("Display the agent's status")
    .option('--verbose', 'also list allocated addresses and every module')
    .action(async (opts: { verbose?: boolean }) => {
      const s = await ctx.client().get<StatusResponse>('/v1/healthz');
      ctx.print(s, () => formatStatus(s, opts.verbose === true));
    });
}
