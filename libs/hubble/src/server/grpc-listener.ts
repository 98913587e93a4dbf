import { rm } from 'node:fs/promises';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';

/** PEM material for a TLS listener; with `clientCa`, clients must present a certificate it signed (mutual TLS). */
export interface ServerTlsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly clientCa?: string | Buffer | readonly (string | Buffer)[];
}

export interface GrpcListenOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** A unix socket path (plaintext, like upstream's hubble.sock); a stale file there is replaced. */
  readonly unixSocket?: string;
  /** A TCP listener; port 0 picks a free port; no host means every address (`:4244`). */
  readonly tcp?: { readonly host?: string; readonly port: number };
  /** TLS for the TCP listener; without it the TCP listener speaks h2c. */
  readonly tls?: ServerTlsOptions;
  /** Response headers added to every call (version headers). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface GrpcListener {
  readonly unixSocket?: string;
  readonly tcp?: { readonly host: string; readonly port: number };
  /** Stops listening and cuts open connections, as a dying node would. */
  close(): Promise<void>;
}

function listen(server: http2.Http2Server | http2.Http2SecureServer, target: string | { host?: string | undefined; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => (server.off('error', reject), resolve());
    if (typeof target === 'string') server.listen(target, done);
    else if (target.host === undefined) server.listen(target.port, done);
    else server.listen(target.port, target.host, done);
  });
}

/** Serves Connect routes as gRPC over HTTP/2 on a unix socket and/or a TCP port. */
export async function listenGrpc(options: GrpcListenOptions): Promise<GrpcListener> {
  if (!options.unixSocket && !options.tcp) throw new Error('hubble server: neither a unix socket nor a TCP address to listen on');
  const adapter = connectNodeAdapter({ routes: options.routes, grpc: true, grpcWeb: false, connect: false });
  const headers = Object.entries(options.headers ?? {});
  const handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    for (const [k, v] of headers) res.setHeader(k, v);
    adapter(req, res);
  };
  const servers: (http2.Http2Server | http2.Http2SecureServer)[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const track = <S extends http2.Http2Server | http2.Http2SecureServer>(server: S): S => {
    server.on('session', (s: http2.ServerHttp2Session) => {
      sessions.add(s);
      s.once('close', () => sessions.delete(s));
    });
    servers.push(server);
    return server;
  };
  let unixSocket: string | undefined;
  let tcp: { host: string; port: number } | undefined;
  try {
    if (options.unixSocket) {
      await rm(options.unixSocket, { force: true });
      await listen(track(http2.createServer(handler)), options.unixSocket);
      unixSocket = options.unixSocket;
    }
    if (options.tcp) {
      const tls = options.tls;
      const server = tls
        ? http2.createSecureServer(
            { cert: tls.cert, key: tls.key, ca: tls.clientCa as string | Buffer | (string | Buffer)[] | undefined, requestCert: tls.clientCa !== undefined, rejectUnauthorized: tls.clientCa !== undefined, allowHTTP1: false },
            handler,
          )
        : http2.createServer(handler);
      await listen(track(server), { host: options.tcp.host || undefined, port: options.tcp.port });
      const bound = server.address() as AddressInfo;
      tcp = { host: bound.address, port: bound.port };
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw new Error(`hubble server: listen on ${options.unixSocket ?? ''} ${options.tcp ? `${options.tcp.host ?? ''}:${options.tcp.port}` : ''}: ${(err as Error).message}`, { cause: err });
  }
  return {
    unixSocket,
    tcp,
    async close() {
      const closed = Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      for (const s of sessions) s.destroy();
      await closed;
      if (unixSocket) await rm(unixSocket, { force: true });
    },
  };
}
