import { createClient, ConnectError } from '@connectrpc/connect';
import { FlowPrinter, OBSERVER_HEALTH_SERVICE } from '@cilium-ts/hubble';
import { Observer, health } from '@cilium-ts/proto';
import { Command, Option } from 'commander';
import { CliError } from '../cli-error.js';
import { addServerFlags, connect, type ServerOptions } from './connection.js';
import type { HubbleIO } from './hubble-io.js';

const errorText = (err: unknown) => (err instanceof ConnectError ? err.rawMessage : String(err));

/** `hubble status`: the health check, then ServerStatus (flows, rate, nodes behind a relay). */
export function statusCommand(io: HubbleIO): Command {
  const cmd = new Command('status')
    .description('Display the status of the Hubble server')
    .addOption(new Option('-o, --output <format>', 'compact, dict, json or table').choices(['compact', 'dict', 'json', 'table']).default('compact'));
  addServerFlags(cmd, io.env);
  cmd.action(async (o: ServerOptions & { output: 'compact' | 'dict' | 'json' | 'table' }) => {
    const { hubble, requestTimeoutMs } = connect(o);
    try {
      const check = await createClient(health.Health, hubble.transport)
        .check({ service: OBSERVER_HEALTH_SERVICE }, { timeoutMs: requestTimeoutMs })
        .catch((err: unknown) => {
          throw new CliError(`status: health check via ${o.server}: ${errorText(err)}`);
        });
      if (check.status !== health.HealthCheckResponse_ServingStatus.SERVING) throw new CliError(`status: ${o.server} is not serving (${health.HealthCheckResponse_ServingStatus[check.status]})`);
      const status = await createClient(Observer, hubble.transport)
        .serverStatus({}, { timeoutMs: requestTimeoutMs })
        .catch((err: unknown) => {
          throw new CliError(`status: ${o.server}: ${errorText(err)}`);
        });
      if (o.output !== 'json') io.stdout.write(`Healthcheck (via ${o.server}): Ok\n`);
      new FlowPrinter({ output: o.output }, io.stdout, io.stderr).writeServerStatus(status);
    } finally {
      hubble.close();
    }
  });
  return cmd;
}
