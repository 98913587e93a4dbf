// cilium metrics list [--match REGEX]: the agent's metrics, as upstream prints them.
import type { Command } from 'commander';
import type { Metric } from '@cilium-ts/agent-api';
import { CliError } from './cli-error.js';
import type { CommandContext } from './command-context.js';
import { formatTable } from './table.js';

export function formatMetrics(metrics: readonly Metric[]): string {
  const rows = [...metrics]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => [
      m.name,
      Object.entries(m.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(' '),
      m.value.toFixed(6),
    ]);
  return formatTable(['Metric', 'Labels', 'Value'], rows);
}

export function registerMetrics(program: Command, ctx: CommandContext): void {
  program
    .command('metrics')
    .description("Access the agent's metrics")
    .command('list')
    .description('List all metrics')
    .option('-p, --match-pattern <regex>', 'only metrics whose name matches')
    .action(async (opts: { matchPattern?: string }) => {
      let re: RegExp | undefined;
      try {
        re = opts.matchPattern ? new RegExp(opts.matchPattern) : undefined;
      } catch (err) {
        throw new CliError(`--match-pattern: ${(err as Error).message}`);
      }
      const all = await ctx.client().get<Metric[]>('/v1/metrics/');
      const metrics = re ? all.filter((m) => re.test(m.name)) : all;
      ctx.print(metrics, () => formatMetrics(metrics));
    });
}
