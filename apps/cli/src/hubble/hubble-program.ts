import { CommanderError, Command } from 'commander';
import { CliError } from '../cli-error.js';
import type { HubbleIO } from './hubble-io.js';
import { listCommand } from './list-command.js';
import { observeCommand } from './observe-command.js';
import { statusCommand } from './status-command.js';
import { watchCommand } from './watch-command.js';

export const HUBBLE_CLI_VERSION = '1.19.4-ts';

/** The `hubble` command tree, writing to `io`. */
export function buildHubbleProgram(io: HubbleIO): Command {
  const program = new Command('hubble')
    .description('hubble is a utility to observe and inspect Hubble flows (through hubble-relay or a node\u2019s Hubble server)')
    .version(HUBBLE_CLI_VERSION, '--version')
    .addCommand(observeCommand(io))
    .addCommand(statusCommand(io))
    .addCommand(listCommand(io))
    .addCommand(watchCommand(io), { hidden: true });
  const output = { writeOut: (s: string) => io.stdout.write(s), writeErr: (s: string) => io.stderr.write(s) };
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput(output);
    for (const c of cmd.commands) configure(c);
  };
  configure(program);
  return program;
}

/** Runs `hubble ARGS`; resolves to the exit status. */
export async function runHubble(args: readonly string[], io: HubbleIO): Promise<number> {
  try {
    await buildHubbleProgram(io).parseAsync([...args], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      io.stderr.write(`Error: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
