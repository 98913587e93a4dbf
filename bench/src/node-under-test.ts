import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const AGENT_BIN = fileURLToPath(new URL('../../apps/agent/bin/cilium-agent.js', import.meta.url));
export const CNI_BIN = fileURLToPath(new URL('../../apps/cni/bin/cilium-cni.js', import.meta.url));

/** One node namespace with a real agent in it (no kvstore), everything removed by close(). */
export class NodeUnderTest {
  readonly id = randomBytes(3).toString('hex');
  readonly netns = `cts-bench-node-${this.id}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'cts-bench-'));
  readonly socket = join(this.dir, 'cilium.sock');
  readonly bpfRoot = `/sys/fs/bpf/cts-bench-${this.id}`;
  private agent: ChildProcess | undefined;
  private readonly extraNetns: string[] = [];

  async start(): Promise<void> {
    execFileSync('ip', ['netns', 'add', this.netns]);
    this.agent = spawn(
      'nsenter',
      [`--net=/var/run/netns/${this.netns}`, process.execPath, AGENT_BIN, '--node-name', 'bench', '--node-ip', '10.99.0.11', '--pod-cidr', '10.240.0.0/16',
        '--socket-path', this.socket, '--state-dir', join(this.dir, 'state'), '--bpf-root', this.bpfRoot, '--metrics-address', '', '--hubble-port', '0', '--hubble-socket-path', join(this.dir, 'hubble.sock')],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    for (let i = 0; i < 300 && !existsSync(this.socket); i++) await sleep(50);
    if (!existsSync(this.socket)) throw new Error('the agent did not start');
  }

  get agentPid(): number {
    return this.agent!.pid!;
  }

  /** A pod namespace of this node, removed with the node. */
  podNetns(name: string): string {
    const ns = `cts-bench-${name}-${this.id}`;
    execFileSync('ip', ['netns', 'add', ns]);
    this.extraNetns.push(ns);
    return ns;
  }

  exec(args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.netns, ...args]).toString();
  }

  async close(): Promise<void> {
    if (this.agent && this.agent.exitCode === null) {
      const exited = new Promise((r) => this.agent!.once('exit', r));
      this.agent.kill('SIGTERM');
      await exited;
    }
    for (const ns of this.extraNetns) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', this.netns], { stdio: 'ignore' });
    rmSync(this.bpfRoot, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}
