import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ip } from '@cilium-ts/iproute';

const run = promisify(execFile);

/** Runs a command and returns its stdout; failures name the command and carry its stderr. */
export async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/**
 * A named network namespace (`ip netns`), the unit the lab builds nodes and pods from.
 * Its path is what the datapath addon takes to attach programs inside it.
 */
export class Netns {
  private constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    await sh('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    await ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  get path(): string {
    return `/var/run/netns/${this.name}`;
  }

  /** `ip` inside the namespace. */
  ip(...args: string[]): Promise<string> {
    return ip({ path: this.path }, args);
  }

  /** Any command inside the namespace. */
  exec(cmd: string, args: string[]): Promise<string> {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args]);
  }

  async delete(): Promise<void> {
    await sh('ip', ['netns', 'delete', this.name]).catch(() => undefined);
  }
}

/** Joins two namespaces with a veth pair, giving each end an address on a shared subnet. */
export async function joinWithVeth(
  a: Netns,
  aIf: string,
  aAddr: string,
  b: Netns,
  bIf: string,
  bAddr: string,
): Promise<void> {
  await sh('ip', ['link', 'add', aIf, 'netns', a.name, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name]);
  await a.ip('addr', 'add', aAddr, 'dev', aIf);
  await b.ip('addr', 'add', bAddr, 'dev', bIf);
  await a.ip('link', 'set', aIf, 'up');
  await b.ip('link', 'set', bIf, 'up');
}
