import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unixRequest } from './testing/unix-http.js';

// The real cilium-agent process, as its bin runs it (the agent must have been built: dist/main.js).
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'cilium-agent.js');

function startProcess(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForSocket(path: string, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(path)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`agent did not create ${path}; output:\n${output()}`);
}

describe.skipIf(!existsSync(join(dirname(bin), '..', 'dist', 'main.js')))('cilium-agent process', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-main-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('prints usage with --help', async () => {
    const p = startProcess(['--help']);
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('Usage: cilium-agent [options]');
    expect(p.output()).toContain('--routing-mode <mode>');
  });

  it('refuses an invalid configuration with one line naming the field', async () => {
    const p = startProcess(['--pod-cidr', '10.0.1.7/24', '--node-name', 'n1']);
    expect(await p.exited).toBe(1);
    expect(p.output().trim()).toBe('cilium-agent: invalid configuration: configuration: pod-cidr: host bits are set; did you mean 10.0.1.0/24? (got "10.0.1.7/24")');
  });

  it('stops on SIGTERM removing its socket, keeps its state dir, and restores endpoints on the next start', async () => {
    const socketPath = join(dir, 'cilium.sock');
    const args = ['--node-name', 'n1', '--pod-cidr', '10.0.1.0/24', '--socket-path', socketPath, '--state-dir', join(dir, 'state'), '--metrics-address', ''];
    const first = startProcess(args);
    children.push(first.child);
    await waitForSocket(socketPath, first.output);
    await unixRequest(socketPath, 'PUT', '/v1/endpoint/42', { 'container-id': 'c1', labels: ['k8s:app=web'], 'sync-build-endpoint': true });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
    expect(await readdir(join(dir, 'state', 'endpoints'))).toEqual(['42.json']);

    const second = startProcess(args);
    children.push(second.child);
    await waitForSocket(socketPath, second.output);
    const { body } = await unixRequest<{ id: number; status: { state: string } }[]>(socketPath, 'GET', '/v1/endpoint');
    expect(body.map((e) => [e.id, e.status.state])).toEqual([[42, 'ready']]);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
