// A real etcd server (Debian's /usr/bin/etcd) on free loopback ports with a temporary data dir.
// Used by the tests and by the benchmark; stop()/start() keep the data dir so that a restart
// looks to clients exactly like an etcd member coming back.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdServerOptions {
  binary?: string;
  /** Extra command-line flags, e.g. `--auto-compaction-retention`. */
  extraArgs?: string[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class EtcdServer {
  private process: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    private readonly options: EtcdServerOptions,
  ) {}

  /** Starts a fresh etcd; call `destroy()` afterwards to kill it and remove its data. */
  static async start(options: EtcdServerOptions = {}): Promise<EtcdServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'cilium-ts-etcd-'));
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    const server = new EtcdServer(dataDir, clientPort, peerPort, options);
    try {
      await server.start();
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** (Re)starts etcd on the same ports and data dir. */
  async start(): Promise<void> {
    if (this.process) return;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const args = [
      '--name', 'default',
      '--data-dir', this.dataDir,
      '--listen-client-urls', this.endpoint,
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `default=${peer}`,
      '--log-level', 'warn',
      ...(this.options.extraArgs ?? []),
    ];
    this.log = '';
    const child = spawn(this.options.binary ?? '/usr/bin/etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keepLog = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-8000);
    };
    child.stdout?.on('data', keepLog);
    child.stderr?.on('data', keepLog);
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await this.waitHealthy(child);
  }

  private async waitHealthy(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`etcd on ${this.endpoint} exited with code ${child.exitCode}: ${this.log}`);
      }
      try {
        const res = await fetch(`${this.endpoint}/health`);
        const body = (await res.json()) as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`etcd on ${this.endpoint} did not become healthy within 20s: ${this.log}`);
  }

  /** Kills etcd (SIGKILL, as a crash would) and keeps its data dir. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  /** Kills etcd and starts it again with an empty data dir: every key, lease and revision gone. */
  async wipe(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
    await this.start();
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await rm(this.dataDir, { recursive: true, force: true });
    }
  }
}
