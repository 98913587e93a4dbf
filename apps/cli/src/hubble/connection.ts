import { readFileSync } from 'node:fs';
import { createHubbleTransport, type ClientTlsOptions, type HubbleTransport } from '@cilium-ts/hubble';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { parseGoDuration } from './time-flags.js';

export interface ServerOptions {
  server: string;
  timeout: string;
  requestTimeout: string;
  tls?: boolean;
  tlsAllowInsecure?: boolean;
  tlsCaCertFiles?: string[];
  tlsClientCertFile?: string;
  tlsClientKeyFile?: string;
  tlsServerName?: string;
}

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').filter(Boolean)];

/** The server flags every `hubble` command takes (`--server`, timeouts, TLS), with HUBBLE_* environment defaults. */
export function addServerFlags(cmd: Command, env: Readonly<Record<string, string | undefined>>): Command {
  return cmd
    .option('--server <addr>', 'address of a Hubble server (host:port, tls://host:port or unix:///path)', env['HUBBLE_SERVER'] ?? 'localhost:4245')
    .option('--timeout <duration>', 'dial timeout', env['HUBBLE_TIMEOUT'] ?? '5s')
    .option('--request-timeout <duration>', 'unary request timeout', env['HUBBLE_REQUEST_TIMEOUT'] ?? '12s')
    .option('--tls', 'use TLS to the server', env['HUBBLE_TLS'] === 'true')
    .option('--tls-allow-insecure', 'do not verify the server certificate')
    .option('--tls-ca-cert-files <files>', 'CA certificates to verify the server with (comma separated)', list)
    .option('--tls-client-cert-file <file>', 'client certificate for mutual TLS')
    .option('--tls-client-key-file <file>', 'key of the client certificate')
    .option('--tls-server-name <name>', 'name the server certificate must carry');
}

function duration(flag: string, text: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined) throw new CliError(`--${flag}: invalid duration "${text}"`);
  return ms;
}

/** A gRPC transport to `--server`, h2c unless TLS is asked for (by --tls or a tls:// address). */
export function connect(o: ServerOptions): { hubble: HubbleTransport; requestTimeoutMs: number; dialTimeoutMs: number } {
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      throw new CliError(`reading ${f}: ${(err as Error).message}`);
    }
  };
  const wantsTls = o.tls === true || o.server.startsWith('tls://') || o.tlsCaCertFiles !== undefined || o.tlsClientCertFile !== undefined;
  const tls: ClientTlsOptions | undefined = wantsTls
    ? {
        ca: o.tlsCaCertFiles?.map(read),
        cert: o.tlsClientCertFile && read(o.tlsClientCertFile),
        key: o.tlsClientKeyFile && read(o.tlsClientKeyFile),
        serverName: o.tlsServerName,
        allowInsecure: o.tlsAllowInsecure,
      }
    : undefined;
  let hubble: HubbleTransport;
  try {
    hubble = createHubbleTransport(o.server, { defaultPort: 4245, tls });
  } catch (err) {
    throw new CliError(`--server: ${(err as Error).message}`);
  }
  return { hubble, requestTimeoutMs: duration('request-timeout', o.requestTimeout), dialTimeoutMs: duration('timeout', o.timeout) };
}
