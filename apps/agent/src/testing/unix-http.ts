// Tests talk to the API the way the CLI and the CNI plugin do, and look at status and parsed body together.
import { unixRequest as rawRequest } from '@cilium-ts/agent-api';

export interface UnixResponse<T> {
  status: number;
  body: T;
}

export async function unixRequest<T>(socketPath: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<UnixResponse<T>> {
  const res = await rawRequest(socketPath, method, path, body, contentType);
  return { status: res.status, body: (res.text ? JSON.parse(res.text) : undefined) as T };
}
