// The `cilium` command: one commander program, run in-process so that tests and the bin share it.
import { Command, CommanderError, Option } from 'commander';
import { CliError } from './cli-error.js';
import { CommandContext, type CliIO, type GlobalOptions } from './command-context.js';
import { registerConfig } from './config-command.js';
import { registerEndpoint } from './endpoint-command.js';
import { registerIdentity } from './identity-command.js';
import { registerBpf, registerMap } from './map-command.js';
import { registerMetrics } from './metrics-command.js';
import { registerMonitor } from './monitor-command.js';
import { registerPolicy } from './policy-command.js';
import { registerStatus } from './status-command.js';

export function buildCiliumProgram(io: CliIO): { program: Command; ctx: CommandContext } {
  const program = new Command('cilium')
    .description("CLI for the local cilium-ts agent (its REST API on a unix socket)")
    .option('-H, --host <url>', 'agent API socket, unix:///path (default: $CILIUM_SOCK or /var/run/cilium/cilium.sock)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'table']).default('table'))
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  const ctx = new CommandContext(io, () => program.opts<GlobalOptions>());
  registerStatus(program, ctx);
  registerEndpoint(program, ctx);
  registerIdentity(program, ctx);
  registerPolicy(program, ctx);
  registerConfig(program, ctx);
  registerMetrics(program, ctx);
  registerMap(program, ctx);
  registerBpf(program, ctx);
  registerMonitor(program, ctx);
  // Subcommands inherit exitOverride and output so that errors come back here, not through process.exit.
  const configure = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
      configure(sub);
    }
  };
  configure(program);
  return { program, ctx };
}

/** Runs `cilium ARGS`; returns the exit status. Errors are one line on stderr. */
export async function runCilium(args: readonly string[], io: CliIO): Promise<number> {
  const { program, ctx } = buildCiliumProgram(io);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return err.exitCode;
    }
    if (err instanceof CliError) {
      io.err(`Error: ${err.message}`);
      return 1;
    }
    io.err(`Error: ${(err as Error).message}`);
    return 1;
  }
}
