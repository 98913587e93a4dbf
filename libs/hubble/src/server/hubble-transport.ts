import type * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Transport } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';

/** PEM material for a TLS client; with cert and key it authenticates itself (mutual TLS). */
export interface ClientTlsOptions {
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** The name the server's certificate must carry (`--tls-server-name`). */
  readonly serverName?: string;
  /** `--tls-allow-insecure`: skip verification of the server's certificate. */
  readonly allowInsecure?: boolean;
}

export type HubbleAddress = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls: boolean };

/**
 * Parses a Hubble server address as the CLI and the relay accept it: `unix:///path`,
 * `[tls://]host[:port]`, `[v6addr]:port`, with `defaultPort` when none is given
 * (4245 for the relay, 4244 for an agent).
 */
export function parseHubbleAddress(address: string, defaultPort: number): HubbleAddress {
  if (address.startsWith('unix://')) return { kind: 'unix', path: address.slice('unix://'.length) };
  let rest = address;
  let useTls = false;
  if (rest.startsWith('tls://')) {
    useTls = true;
    rest = rest.slice('tls://'.length);
  }
  if (rest.startsWith('http://')) rest = rest.slice('http://'.length);
  let host = rest;
  let port = defaultPort;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1] ?? '';
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (net.isIPv6(rest)) {
    host = rest;
  } else {
    const i = rest.lastIndexOf(':');
    if (i >= 0) {
      host = rest.slice(0, i);
      port = Number(rest.slice(i + 1));
    }
  }
  if (host === '') host = 'localhost';
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`hubble address "${address}": invalid port`);
  return { kind: 'tcp', host, port, tls: useTls };
}

export interface HubbleTransport {
  readonly transport: Transport;
  /** The HTTP/2 connection under the transport; `connect()` dials and reports whether it opened. */
  readonly session: Http2SessionManager;
  close(): void;
}

/** A gRPC (HTTP/2) client transport to a Hubble server or relay, h2c unless TLS is asked for. */
export function createHubbleTransport(address: string | HubbleAddress, options: { tls?: ClientTlsOptions; defaultPort?: number; timeoutMs?: number } = {}): HubbleTransport {
  const parsed = typeof address === 'string' ? parseHubbleAddress(address, options.defaultPort ?? 4245) : address;
  const tlsOptions = options.tls ?? (parsed.kind === 'tcp' && parsed.tls ? {} : undefined);
  let baseUrl: string;
  let nodeOptions: http2.SecureClientSessionOptions;
  if (parsed.kind === 'unix') {
    baseUrl = 'http://localhost';
    nodeOptions = { createConnection: () => net.connect(parsed.path) };
  } else {
    const host = net.isIPv6(parsed.host) ? `[${parsed.host}]` : parsed.host;
    baseUrl = `${tlsOptions ? 'https' : 'http'}://${host}:${parsed.port}`;
    nodeOptions = tlsOptions
      ? {
          ca: tlsOptions.ca as string | Buffer | (string | Buffer)[] | undefined,
          cert: tlsOptions.cert,
          key: tlsOptions.key,
          servername: tlsOptions.serverName,
          rejectUnauthorized: tlsOptions.allowInsecure !== true,
          ...(tlsOptions.serverName ? { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => checkName(tlsOptions.serverName ?? '', cert) } : {}),
        }
      : {};
  }
  const session = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 60_000 }, nodeOptions);
  const transport = createGrpcTransport({ baseUrl, sessionManager: session, defaultTimeoutMs: options.timeoutMs });
  return { transport, session, close: () => session.abort() };
}

// Verifies against the requested server name rather than the dialled host (peers are dialled by IP).
function checkName(serverName: string, cert: tls.PeerCertificate): Error | undefined {
  return tls.checkServerIdentity(serverName, cert);
}
