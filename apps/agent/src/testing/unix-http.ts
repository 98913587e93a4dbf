// A minimal HTTP client over a unix socket (Node's http with socketPath), for tests that talk to the API
// the way the CLI and the CNI plugin do.
import { request as httpRequest } from 'node:http';

export interface UnixResponse<T> {
  status: number;
  body: T;
}

export function unixRequest<T>(socketPath: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<UnixResponse<T>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = httpRequest(
      { socketPath, method, path, headers: payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
