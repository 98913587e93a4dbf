import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unixRequest } from './testing/unix-http.js';

// The real cilium-agent process, as its bin runs it (the agent must have been built: dist/main.js).
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'cilium-agent.js');

// Each agent gets a node namespace of its own: the agent sets up that namespace's datapath.
const nodeNs = `cts-agent-main-${randomBytes(3).toString('hex')}`;
const bpfRoot = `/sys/fs/bpf/${nodeNs}`;
const hubbleDir = `/tmp/${nodeNs}`;
beforeAll(() => execFileSync('ip', ['netns', 'add', nodeNs]));
afterAll(() => {
  execFileSync('ip', ['netns', 'del', nodeNs]);
  rmSync(bpfRoot, { recursive: true, force: true });
  rmSync(hubbleDir, { recursive: true, force: true });
});

function startProcess(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const extra = args.includes('--help') ? [] : ['--bpf-root', bpfRoot, '--hubble-port', '0', '--hubble-socket-path', `${hubbleDir}/hubble.sock`];
  const child = spawn('nsenter', [`--net=/var/run/netns/${nodeNs}`, process.execPath, bin, ...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    // A veth pair in the node namespace stands in for a pod: the endpoint's programs attach to it.
    execFileSync('ip', ['-n', nodeNs, 'link', 'add', 'lxc42', 'type', 'veth', 'peer', 'name', 'pod42']);
    execFileSync('ip', ['-n', nodeNs, 'link', 'set', 'lxc42', 'up']);
    const link = (dev: string) => (JSON.parse(execFileSync('ip', ['-n', nodeNs, '-j', 'link', 'show', dev]).toString()) as Array<{ ifindex: number; address: string }>)[0]!;
    const put = await unixRequest(socketPath, 'PUT', '/v1/endpoint/42', {
      'container-id': 'c1',
      labels: ['k8s:app=web'],
      addressing: { ipv4: '10.0.1.42' },
      'interface-name': 'lxc42',
      'interface-index': link('lxc42').ifindex,
      'host-mac': link('lxc42').address,
      mac: link('pod42').address,
      'sync-build-endpoint': true,
    });
    expect(put.status).toBe(201);
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
