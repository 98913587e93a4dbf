import { request as httpRequest } from 'node:http';
import type { ApiError } from './types.js';

/** Upstream's default API socket. */
export const DEFAULT_AGENT_SOCKET = '/var/run/cilium/cilium.sock';

/** Nothing answers on the socket: the agent is not running, or the path is wrong. */
export class AgentUnreachableError extends Error {
  override name = 'AgentUnreachableError';
  constructor(
    readonly socketPath: string,
    readonly errno: string,
  ) {
    super(`cannot reach the agent at unix://${socketPath}: ${errno} (is cilium-agent running? use -H or CILIUM_SOCK)`);
  }
}

/** The agent answered with a 4xx or 5xx; `code` and the message are the agent's own. */
export class AgentApiError extends Error {
  override name = 'AgentApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The socket path from `-H` (unix:///path or a bare path), else CILIUM_SOCK, else the default. */
export function resolveSocketPath(host: string | undefined, env: NodeJS.ProcessEnv): string {
  const value = host ?? env['CILIUM_SOCK'] ?? DEFAULT_AGENT_SOCKET;
  if (value.startsWith('unix://')) return value.slice('unix://'.length);
  if (value.startsWith('/')) return value;
  throw new Error(`-H ${value}: expected unix:///path/to/cilium.sock`);
}

export interface RawResponse {
  status: number;
  text: string;
}

/** One HTTP request over a unix socket; the body is sent as JSON unless it is already a string. */
export function unixRequest(socketPath: string, method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 0): Promise<RawResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        socketPath,
        method,
        path,
        headers: payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new AgentUnreachableError(socketPath, err.code ?? err.message)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * A long-lived GET whose body is newline-delimited JSON (cilium monitor): each object goes to `onObject`
 * as it arrives. Resolves when the agent ends the stream or `signal` aborts it.
 */
export function streamNdjson<T>(socketPath: string, path: string, onObject: (obj: T) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method: 'GET', path, ...(signal ? { signal } : {}) }, (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          const err = (() => {
            try {
              return JSON.parse(text) as Partial<ApiError>;
            } catch {
              return { message: text };
            }
          })();
          reject(new AgentApiError(res.statusCode ?? 0, err.code ?? 'unknown', `GET ${path}: ${res.statusCode} ${err.message}`));
        });
        return;
      }
      let buffered = '';
      res.on('data', (c: Buffer) => {
        buffered += c.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim()) onObject(JSON.parse(line) as T);
        }
      });
      res.on('end', () => resolve());
      res.on('error', (e) => (signal?.aborted ? resolve() : reject(e)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (signal?.aborted) resolve();
      else reject(new AgentUnreachableError(socketPath, err.code ?? err.message));
    });
    req.end();
  });
}

/** A typed client of the agent's `/v1` API. */
export class AgentClient {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 0,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const res = await unixRequest(this.socketPath, method, path, body, contentType, this.timeoutMs);
    let parsed: unknown;
    try {
      parsed = res.text ? JSON.parse(res.text) : undefined;
    } catch {
      parsed = res.text;
    }
    if (res.status >= 200 && res.status < 300) return parsed as T;
    const err = parsed as Partial<ApiError> | undefined;
    throw new AgentApiError(res.status, err?.code ?? 'unknown', `${method} ${path}: ${res.status} ${err?.message ?? res.text}`);
  }
}
