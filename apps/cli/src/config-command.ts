// cilium config [Option=Value ...]: show the agent's configuration, or change its mutable options.
import type { Command } from 'commander';
import type { DaemonConfiguration, DaemonConfigurationPatch } from '@cilium-ts/agent-api';
import { CliError } from './cli-error.js';
import type { CommandContext } from './command-context.js';
import { formatTable } from './table.js';

export function formatConfig(c: DaemonConfiguration): string {
  const rows: [string, string][] = [
    ...Object.entries(c.spec.options),
    ['PolicyEnforcement', c.spec['policy-enforcement']],
    ...Object.entries(c.status.immutable).filter(([, v]) => v !== ''),
  ];
  return formatTable(['Option', 'Value'], rows.sort((a, b) => a[0].localeCompare(b[0])));
}

/** Debug=Enabled, PolicyEnforcement=always (or policy-enforcement=always). */
export function parseConfigChanges(args: readonly string[]): DaemonConfigurationPatch {
  const patch: DaemonConfigurationPatch = {};
  for (const arg of args) {
    const m = /^([A-Za-z-]+)=(.*)$/.exec(arg);
    if (!m) throw new CliError(`config ${arg}: expected Option=Value, e.g. Debug=Enabled or PolicyEnforcement=always`);
    const [, key, value] = m as unknown as [string, string, string];
    if (/^policy-?enforcement$/i.test(key)) {
      if (value !== 'default' && value !== 'always' && value !== 'never') throw new CliError(`config ${arg}: PolicyEnforcement must be default, always or never`);
      patch['policy-enforcement'] = value;
    } else {
      patch.options = { ...patch.options, [key]: value };
    }
  }
  return patch;
}

export function registerConfig(program: Command, ctx: CommandContext): void {
  program
    .command('config [changes...]')
    .description("Show the agent's configuration, or change options: cilium config Debug=Enabled")
    .action(async (changes: string[]) => {
      const client = ctx.client();
      const c = changes.length
        ? await client.request<DaemonConfiguration>('PATCH', '/v1/config', parseConfigChanges(changes))
        : await client.get<DaemonConfiguration>('/v1/config');
      ctx.print(c, () => formatConfig(c));
    });
}
