import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, joinWithVeth } from './netns.js';
import { probeFromPod } from './probe-client.js';

const podAgentMain = fileURLToPath(new URL('../dist/pod-agent-main.js', import.meta.url));

async function startPodAgent(ns: Netns, control: string, ports: string[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, podAgentMain, control, ...ports], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`pod agent exited with ${code}`)));
  });
  return child;
}

describe('pod agents: servers on pod ports, probes from inside the pod', () => {
  const id = randomBytes(3).toString('hex');
  const nss: Netns[] = [];
  const children: ChildProcess[] = [];
  const controlA = `/tmp/cts-pod-a-${id}.sock`;

  beforeAll(async () => {
    const a = await Netns.create(`cts-pa-${id}`);
    nss.push(a);
    const b = await Netns.create(`cts-pb-${id}`);
    nss.push(b);
    await joinWithVeth(a, 'eth0', '10.201.0.1/24', b, 'eth0', '10.201.0.2/24');
    children.push(await startPodAgent(a, controlA, []));
    children.push(await startPodAgent(b, `/tmp/cts-pod-b-${id}.sock`, ['80/TCP', '80/UDP']));
  });
  afterAll(async () => {
    for (const c of children) c.kill();
    for (const ns of nss) await ns.delete();
  });

  const from = (host: string, port: number, protocol: 'TCP' | 'UDP' | 'SCTP') => probeFromPod(controlA, { host, port, protocol, timeoutMs: 500 });

  it('connects over TCP and UDP to ports the other pod serves', async () => {
    expect(await from('10.201.0.2', 80, 'TCP')).toEqual({ connected: true });
    expect(await from('10.201.0.2', 80, 'UDP')).toEqual({ connected: true });
  });

  it('reports a closed TCP port as refused and a silent UDP port as a timeout', async () => {
    expect(await from('10.201.0.2', 81, 'TCP')).toEqual({ connected: false, error: 'ECONNREFUSED' });
    expect(await from('10.201.0.2', 81, 'UDP')).toEqual({ connected: false, error: 'timeout' });
  });

  it('says plainly that SCTP is not available on this kernel', async () => {
    expect(await from('10.201.0.2', 80, 'SCTP')).toEqual({ connected: false, error: 'unsupported: the kernel has no SCTP' });
  });
});
