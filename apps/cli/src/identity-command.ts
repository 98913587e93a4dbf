// cilium identity list|get
import type { Command } from 'commander';
import type { Identity } from '@cilium-ts/agent-api';
import type { CommandContext } from './command-context.js';
import { formatTable } from './table.js';

export function formatIdentities(ids: readonly Identity[]): string {
  return formatTable(['ID', 'LABELS'], [...ids].sort((a, b) => a.id - b.id).map((i) => [i.id, [...i.labels].sort()]));
}

export function registerIdentity(program: Command, ctx: CommandContext): void {
  const identity = program.command('identity').description('Manage security identities');
  identity
    .command('list')
    .description('List identities')
    .argument('[labels...]', 'only identities carrying all these labels')
    .action(async (labels: string[]) => {
      const query = labels.length ? `?labels=${encodeURIComponent(labels.join(','))}` : '';
      const ids = await ctx.client().get<Identity[]>(`/v1/identity${query}`);
      ctx.print(ids, () => formatIdentities(ids));
    });
  identity
    .command('get <id>')
    .description('Display an identity')
    .action(async (id: string) => {
      const i = await ctx.client().get<Identity>(`/v1/identity/${encodeURIComponent(id)}`);
      ctx.print(i, () => formatIdentities([i]));
    });
}
