import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const LAB_BIN = fileURLToPath(new URL('../../apps/lab/bin/cilium-lab.js', import.meta.url));

export interface Run {
  code: number;
  out: string;
  err: string;
}

/**
 * The lab's command line, as a person types it, against a lab of the test's own name so it never meets
 * a lab someone has running.
 */
export class LabCli {
  readonly name = `e2e${randomBytes(2).toString('hex')}`;
  /** Its relay on a loopback port of its own, beside a person's lab on 4245. */
  readonly relayPort = String(20_000 + randomBytes(2).readUInt16BE(0) % 20_000);
  private readonly env = { ...process.env, CILIUM_LAB_NAME: this.name, CILIUM_LAB_RELAY_PORT: this.relayPort };

  run(...args: string[]): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [LAB_BIN, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
    });
  }

  /** Runs a command that must succeed, and returns its output. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.run(...args);
    if (r.code !== 0) throw new Error(`cilium-lab ${args.join(' ')} exited ${r.code}:\n${r.out}${r.err}`);
    return r.out;
  }

  async json<T>(...args: string[]): Promise<T> {
    return JSON.parse(await this.ok(...args, '-o', 'json')) as T;
  }

  /** The reachability matrix for one port as `from -> to` strings of the reachable pairs. */
  async reachable(port: string): Promise<string[]> {
    const m = await this.json<{ pods: string[]; reachable: boolean[][] }>('probe', '--all', port);
    const out: string[] = [];
    m.reachable.forEach((row, i) => row.forEach((r, j) => r && i !== j && out.push(`${m.pods[i]} -> ${m.pods[j]}`)));
    return out.sort();
  }

  /** A long-running command (cilium monitor): its output so far, and a way to stop it. */
  spawn(...args: string[]): { out(): string; err(): string; stop(): void } {
    const child = spawn(process.execPath, [LAB_BIN, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return { out: () => out, err: () => err, stop: () => child.kill('SIGINT') };
  }

  async connected(from: string, to: string, port: string): Promise<boolean> {
    const r = await this.run('probe', from, to, port);
    return r.code === 0;
  }
}
