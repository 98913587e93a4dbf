import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, type Endpoint } from '@cilium-ts/agent-api';

// cilium-cni run the way a container runtime runs it, inside a node namespace where a real cilium-agent
// serves its API. The agent must have been built (nx builds it before these tests).
const cniBin = fileURLToPath(new URL('../bin/cilium-cni.js', import.meta.url));
const agentBin = fileURLToPath(new URL('../../agent/bin/cilium-agent.js', import.meta.url));

describe('cilium-cni against a running agent', () => {
  const id = randomBytes(3).toString('hex');
  const nodeNs = `cts-cnie-node-${id}`;
  const pods: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cts-cni-'));
  const socket = join(dir, 'cilium.sock');
  let agent: ChildProcess;
  let agentLog = '';

  const conf = (over: Record<string, unknown> = {}) =>
    JSON.stringify({ cniVersion: '1.1.0', name: 'cilium', type: 'cilium-cni', 'agent-socket': socket, ...over });
  const cni = (command: string, container: string, podNs: string | undefined, stdin = conf()) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH!,
      CNI_COMMAND: command,
      CNI_CONTAINERID: container,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/opt/cni/bin',
      CNI_ARGS: `K8S_POD_NAMESPACE=x;K8S_POD_NAME=${container}`,
      ...(podNs ? { CNI_NETNS: `/var/run/netns/${podNs}` } : {}),
    };
    const r = spawnSync('ip', ['netns', 'exec', nodeNs, process.execPath, cniBin], { env, input: stdin, encoding: 'utf8' });
    return { status: r.status, out: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined, stderr: r.stderr };
  };
  const newPod = () => {
    const name = `cts-cnie-pod${pods.length}-${id}`;
    execFileSync('ip', ['netns', 'add', name]);
    pods.push(name);
    return name;
  };
  const nodeLinks = () => execFileSync('ip', ['-n', nodeNs, '-o', 'link', 'show']).toString().split('\n').filter((l) => l.includes('lxc')).length;
  const endpoints = () => new AgentClient(socket).get<Endpoint[]>('/v1/endpoint');

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', nodeNs]);
    // nsenter, not ip netns exec: the agent pins maps in bpffs, which ip netns exec hides by remounting /sys.
    agent = spawn(
      'nsenter',
      [`--net=/var/run/netns/${nodeNs}`, process.execPath, agentBin, '--node-name', 'node-1', '--node-ip', '10.99.0.11', '--pod-cidr', '10.244.9.0/24',
        '--socket-path', socket, '--state-dir', join(dir, 'state'), '--metrics-address', '', '--hubble-port', '0', '--hubble-socket-path', join(dir, 'hubble.sock'), '--bpf-root', `/sys/fs/bpf/cts-cnie-${id}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
    for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(socket)) throw new Error(`agent did not start:\n${agentLog}`);
  });
  afterAll(async () => {
    if (agent.exitCode === null) {
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    for (const p of pods) execFileSync('ip', ['netns', 'del', p]);
    execFileSync('ip', ['netns', 'del', nodeNs]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/sys/fs/bpf/cts-cnie-${id}`, { recursive: true, force: true });
  });

  it('ADD gives the pod an address from the node pod CIDR and creates its endpoint; CHECK passes; DEL removes both, twice', async () => {
    const pod = newPod();
    const add = cni('ADD', 'ctr-a', pod);
    expect(add.status, JSON.stringify(add.out)).toBe(0);
    const ips = add.out!.ips as Array<{ address: string; gateway: string; interface: number }>;
    expect(ips[0]).toMatchObject({ address: expect.stringMatching(/^10\.244\.9\.\d+\/32$/), gateway: '10.244.9.1', interface: 1 });
    expect(add.out!.interfaces).toEqual([
      { name: expect.stringMatching(/^lxc/), mac: expect.any(String) },
      { name: 'eth0', mac: expect.any(String), mtu: 1450, sandbox: `/var/run/netns/${pod}` },
    ]);
    const ep = (await endpoints()).find((e) => e.status['external-identifiers']['container-id'] === 'ctr-a');
    expect(ep?.status.networking.addressing[0]?.ipv4).toBe(ips[0]!.address.split('/')[0]);
    expect(ep?.status.state).toBe('ready');

    expect(cni('CHECK', 'ctr-a', pod, conf({ prevResult: add.out })).status).toBe(0);

    expect(cni('DEL', 'ctr-a', pod).status).toBe(0);
    expect((await endpoints()).some((e) => e.status['external-identifiers']['container-id'] === 'ctr-a')).toBe(false);
    expect(nodeLinks()).toBe(0);
    expect(cni('DEL', 'ctr-a', pod).status).toBe(0);
    expect(cni('DEL', 'ctr-a', undefined).status).toBe(0);
  });

  it('refuses a second ADD on the same interface and leaves the first one working', async () => {
    const pod = newPod();
    expect(cni('ADD', 'ctr-b', pod).status).toBe(0);
    const again = cni('ADD', 'ctr-b2', pod);
    expect(again.status).toBe(1);
    expect(again.out).toMatchObject({ msg: 'interface already exists in the pod' });
    expect(nodeLinks()).toBe(1);
    // The address the failed ADD took was given back.
    const owners = Object.values((await new AgentClient(socket).get<{ ipam: { allocations: Record<string, string> } }>('/v1/healthz')).ipam.allocations);
    expect(owners).toContain('x/ctr-b');
    expect(owners).not.toContain('x/ctr-b2');
    expect(cni('DEL', 'ctr-b', pod).status).toBe(0);
  });

  it('with an unreachable agent: code 11 naming the socket, and nothing left behind', () => {
    const pod = newPod();
    const before = nodeLinks();
    const r = cni('ADD', 'ctr-c', pod, conf({ 'agent-socket': join(dir, 'nobody.sock') }));
    expect(r.status).toBe(1);
    expect(r.out).toMatchObject({ code: 11, msg: 'cilium agent is not reachable', details: expect.stringContaining('nobody.sock') });
    expect(nodeLinks()).toBe(before);
    expect(execFileSync('ip', ['-n', pod, '-o', 'link', 'show']).toString()).not.toMatch(/eth0/);
  });

  it('GC removes the endpoints and interfaces of attachments the runtime no longer lists', async () => {
    const [p1, p2] = [newPod(), newPod()];
    expect(cni('ADD', 'ctr-keep', p1).status).toBe(0);
    expect(cni('ADD', 'ctr-gone', p2).status).toBe(0);
    const gc = cni('GC', 'unused', undefined, conf({ 'cni.dev/valid-attachments': [{ containerID: 'ctr-keep', ifname: 'eth0' }] }));
    expect(gc.status, JSON.stringify(gc.out)).toBe(0);
    const left = (await endpoints()).map((e) => e.status['external-identifiers']['container-id']);
    expect(left).toContain('ctr-keep');
    expect(left).not.toContain('ctr-gone');
    expect(nodeLinks()).toBe(1);
    expect(cni('DEL', 'ctr-keep', p1).status).toBe(0);
  });

  it('STATUS is 0 while the agent serves', () => {
    expect(cni('STATUS', 'unused', undefined).status).toBe(0);
  });
});
