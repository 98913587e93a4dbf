import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentApiError, AgentClient, AgentUnreachableError, resolveSocketPath } from './client.js';

describe('the agent API client over a unix socket', () => {
  const socketPath = `/tmp/cts-agent-api-${randomBytes(3).toString('hex')}.sock`;
  let server: Server;
  beforeAll(async () => {
    // A plain HTTP server on a unix socket answers the way the agent's API does.
    server = createServer((req, res) => {
      if (req.url === '/v1/healthz') res.writeHead(200, { 'content-type': 'application/json' }).end('{"cilium":{"state":"Ok","msg":""}}');
      else res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"not-found","message":"endpoint 7 not found"}');
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });
  afterAll(() => {
    server.close();
    rmSync(socketPath, { force: true });
  });

  it('returns the parsed body of a 2xx answer', async () => {
    expect(await new AgentClient(socketPath).get('/v1/healthz')).toEqual({ cilium: { state: 'Ok', msg: '' } });
  });

  it("turns a 4xx into an error carrying the agent's code and message", async () => {
    const err = await new AgentClient(socketPath).get('/v1/endpoint/7').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentApiError);
    expect(err).toMatchObject({ status: 404, code: 'not-found', message: 'GET /v1/endpoint/7: 404 endpoint 7 not found' });
  });

  it('names the socket when nothing answers', async () => {
    const err = await new AgentClient('/tmp/no-agent-here.sock').get('/v1/healthz').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentUnreachableError);
    expect((err as Error).message).toBe('cannot reach the agent at unix:///tmp/no-agent-here.sock: ENOENT (is cilium-agent running? use -H or CILIUM_SOCK)');
  });

  it('finds the socket from -H, then CILIUM_SOCK, then the default', () => {
    expect(resolveSocketPath('unix:///a.sock', { CILIUM_SOCK: '/b.sock' })).toBe('/a.sock');
    expect(resolveSocketPath(undefined, { CILIUM_SOCK: '/b.sock' })).toBe('/b.sock');
    expect(resolveSocketPath(undefined, {})).toBe('/var/run/cilium/cilium.sock');
    expect(() => resolveSocketPath('tcp://x', {})).toThrow('-H tcp://x: expected unix:///path/to/cilium.sock');
  });
});
