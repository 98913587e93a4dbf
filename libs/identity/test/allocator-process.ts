// Spawns test/fixtures/allocator-child.mjs: an allocator node in a separate process.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const childScript = fileURLToPath(new URL('./fixtures/allocator-child.mjs', import.meta.url));

interface Reply {
  ok?: boolean;
  ready?: boolean;
  ids?: number[];
  created?: number;
  error?: string;
}

export class AllocatorProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(endpoint: string, nodeName: string, leaseTtlSeconds = 900): Promise<AllocatorProcess> {
    const child = fork(childScript, [endpoint, nodeName, String(leaseTtlSeconds)], { execArgv: [], stdio: 'inherit' });
    const proc = new AllocatorProcess(child);
    const reply = await proc.next();
    if (!reply.ready) throw new Error(`allocator process ${nodeName}: ${reply.error ?? 'did not start'}`);
    return proc;
  }

  private next(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`allocator process exited with ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (msg: Reply) => {
        this.child.off('exit', onExit);
        resolve(msg);
      });
    });
  }

  async allocate(labelSets: string[][]): Promise<{ ids: number[]; created: number }> {
    const reply = this.next();
    this.child.send({ cmd: 'allocate', labelSets });
    const r = await reply;
    if (!r.ok || !r.ids) throw new Error(`allocate in child: ${r.error}`);
    return { ids: r.ids, created: r.created ?? 0 };
  }

  /** Crashes the node: no lease revoke, its references must expire with the lease. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ cmd: 'exit' });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    await this.kill();
  }
}
