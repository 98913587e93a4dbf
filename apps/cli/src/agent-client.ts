// Talks to the local agent's REST API over its unix socket (-H unix:///path, CILIUM_SOCK, or the default).
import { request as httpRequest } from 'node:http';
import type { ApiError } from '@cilium-ts/agent';

export const DEFAULT_SOCKET_PATH = '/var/run/cilium/cilium.sock';

/** The socket path from -H (unix:///path or a bare path), else CILIUM_SOCK, else upstream's default. */
export function resolveSocketPath(host: string | undefined, env: NodeJS.ProcessEnv): string {
  const value = host ?? env['CILIUM_SOCK'] ?? DEFAULT_SOCKET_PATH;
  if (value.startsWith('unix://')) return value.slice('unix://'.length);
  if (value.startsWith('/')) return value;
  throw new CliError(`-H ${value}: expected unix:///path/to/cilium.sock`);
}

/** An error to show the user as one line, exit status 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export class AgentClient {
  constructor(readonly socketPath: string) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = text;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const err = parsed as Partial<ApiError> | undefined;
            reject(new ApiCallError(status, err?.code ?? 'unknown', `${method} ${path}: ${status} ${err?.message ?? text}`));
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(new CliError(`cannot reach the agent at unix://${this.socketPath}: ${err.code ?? err.message} (is cilium-agent running? use -H or CILIUM_SOCK)`));
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

export class ApiCallError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
