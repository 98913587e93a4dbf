import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from './config.js';
import { startAgent, type RunningAgent } from './daemon.js';
import { parseListenAddress } from './metrics.js';
import { unixRequest } from './testing/unix-http.js';

const run = promisify(execFile);

async function hasPromtool(): Promise<boolean> {
  try {
    await run('promtool', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('agent metrics over HTTP', () => {
  let dir: string;
  let agent: RunningAgent;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-metrics-'));
    const socketPath = join(dir, 'cilium.sock');
    agent = await startAgent(buildConfig({ 'node-name': 'node-1', 'pod-cidr': '10.0.1.0/24', 'socket-path': socketPath, 'state-dir': join(dir, 'state'), 'metrics-address': '127.0.0.1:0' }));
    await unixRequest(socketPath, 'POST', '/v1/ipam?owner=x/a');
    await unixRequest(socketPath, 'PUT', '/v1/endpoint/1', { labels: ['k8s:app=web'], 'sync-build-endpoint': true });
  });
  afterAll(async () => {
    await agent?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("exposes upstream's metric names with the agent's state", async () => {
    expect(agent.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(agent.metricsUrl!);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^cilium_endpoint 1$/m);
    expect(text).toMatch(/^cilium_endpoint_state\{endpoint_state="ready"\} 1$/m);
    expect(text).toMatch(/^cilium_endpoint_regenerations_total\{outcome="success"\} 1$/m);
    expect(text).toMatch(/^cilium_ip_addresses\{family="ipv4"\} 1$/m);
    expect(text).toMatch(/^cilium_identity\{type="reserved"\} 1$/m);
    expect(text).toMatch(/^cilium_policy_max_revision 1$/m);
    expect(text).toMatch(/^cilium_controllers_failing 0$/m);
    expect(text).toMatch(/^cilium_api_process_time_seconds_count\{method="PUT",path="\/v1\/endpoint\/:id",return_code="201"\} 1$/m);
    expect(text).toContain('# TYPE cilium_bpf_map_ops_total counter');
  });

  it('passes promtool check metrics when promtool is installed', async (ctx) => {
    if (!(await hasPromtool())) ctx.skip();
    const text = await (await fetch(agent.metricsUrl!)).text();
    const file = join(dir, 'metrics.txt');
    await writeFile(file, text);
    const { stdout, stderr } = await run('sh', ['-c', `promtool check metrics < ${file}`]);
    expect(stdout + stderr).not.toMatch(/error/i);
  });

  it('parses listen addresses the way upstream writes them', () => {
    expect(parseListenAddress(':9962')).toEqual({ host: '0.0.0.0', port: 9962 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListenAddress('9962')).toThrow('metrics-address: must be [host]:port');
  });
});
