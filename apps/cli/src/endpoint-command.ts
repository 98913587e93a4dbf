// cilium endpoint list|get
import type { Command } from 'commander';
import type { Endpoint } from '@cilium-ts/agent-api';
import type { CommandContext } from './command-context.js';
import { formatTable } from './table.js';

function enforcement(ep: Endpoint, direction: 'ingress' | 'egress'): string {
  const mode = ep.status.policy.realized['policy-enabled'];
  return mode === 'both' || mode === direction ? 'Enabled' : 'Disabled';
}

export function formatEndpointList(endpoints: readonly Endpoint[]): string {
  const rows = [...endpoints]
    .sort((a, b) => a.id - b.id)
    .map((ep) => {
      const addr = ep.status.networking.addressing[0] ?? {};
      return [
        ep.id,
        enforcement(ep, 'ingress'),
        enforcement(ep, 'egress'),
        ep.status.identity?.id ?? '',
        [...ep.status.labels.realized.user].sort(),
        addr.ipv6 ?? '',
        addr.ipv4 ?? '',
        ep.status.state,
      ];
    });
  return formatTable(
    ['ENDPOINT', ['POLICY (ingress)', 'ENFORCEMENT'], ['POLICY (egress)', 'ENFORCEMENT'], 'IDENTITY', 'LABELS (source:key[=value])', 'IPv6', 'IPv4', 'STATUS'],
    rows,
  );
}

export function registerEndpoint(program: Command, ctx: CommandContext): void {
  const endpoint = program.command('endpoint').description('Manage endpoints');
  endpoint
    .command('list')
    .description('List all endpoints')
    .action(async () => {
      const eps = await ctx.client().get<Endpoint[]>('/v1/endpoint');
      ctx.print(eps, () => formatEndpointList(eps));
    });
  endpoint
    .command('labels <endpoint>')
    .description("Change an endpoint's labels; it moves to the identity of its new labels")
    .option('-a, --add <label...>', 'labels to add or replace (source:key=value)')
    .option('-d, --delete <label...>', 'labels to remove (source:key)')
    .action(async (ref: string, opts: { add?: string[]; delete?: string[] }) => {
      const client = ctx.client();
      const path = `/v1/endpoint/${encodeURIComponent(ref)}`;
      const ep =
        opts.add || opts.delete
          ? await client.request<Endpoint>('PATCH', `${path}/labels`, { add: opts.add ?? [], delete: opts.delete ?? [] })
          : await client.get<Endpoint>(path);
      const labels = [...ep.status.labels.realized.user].sort();
      ctx.print(labels, () => formatTable(['LABELS'], labels.map((l) => [l])));
    });
  endpoint
    .command('get <endpoint>')
    .description('Display an endpoint (id, container-id:<id> or pod-name:<namespace>:<name>)')
    .action(async (ref: string) => {
      const ep = await ctx.client().get<Endpoint>(`/v1/endpoint/${encodeURIComponent(ref)}`);
      // Upstream prints the endpoint model as JSON in both modes.
      ctx.io.out(JSON.stringify([ep], null, 2));
    });
}
