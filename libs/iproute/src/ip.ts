import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Where an `ip` command runs: the current namespace, or one given by its file (e.g. /var/run/netns/x). */
export type NetnsRef = { path?: string };

/** Runs iproute2's `ip` in a namespace, with `-json` output parsed when asked; errors carry ip's own message. */
export async function ip(ns: NetnsRef, args: string[]): Promise<string> {
  const [cmd, argv] = ns.path ? ['nsenter', [`--net=${ns.path}`, 'ip', ...args]] : ['ip', args];
  try {
    const { stdout } = await execFileP(cmd, argv);
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/**
 * Several `ip` commands in one process (`ip -batch -`), in order, stopping at the first failure: one
 * process start instead of one per command, which is most of what a command costs.
 */
export async function ipBatch(ns: NetnsRef, commands: readonly string[][]): Promise<void> {
  const args = ['-batch', '-'];
  const [cmd, argv] = ns.path ? ['nsenter', [`--net=${ns.path}`, 'ip', ...args]] : ['ip', args];
  await new Promise<void>((resolve, reject) => {
    const child = execFile(cmd, argv, (err, _stdout, stderr) => {
      if (!err) return resolve();
      // ip names the failing line of a command that ran ("Command failed -:3"), not of one it could not parse.
      const line = Number(/Command failed -:(\d+)/.exec(stderr)?.[1] ?? 0);
      const failed = line > 0 ? commands[line - 1]!.join(' ') : commands.map((c) => c.join(' ')).join('; ');
      reject(new Error(`ip ${failed}: ${stderr.replace(/Command failed -:\d+\s*/, '').trim() || err.message}`));
    });
    child.stdin!.end(commands.map((c) => c.join(' ')).join('\n') + '\n');
  });
}

export async function ipJson<T>(ns: NetnsRef, args: string[]): Promise<T> {
  const out = await ip(ns, ['-json', ...args]);
  return JSON.parse(out || '[]') as T;
}

export interface LinkInfo {
  ifindex: number;
  ifname: string;
  address: string;
  mtu: number;
  operstate: string;
}

export async function linkInfo(ns: NetnsRef, name: string): Promise<LinkInfo | undefined> {
  try {
    const [link] = await ipJson<LinkInfo[]>(ns, ['link', 'show', 'dev', name]);
    return link;
  } catch (err) {
    if (/does not exist|Cannot find device/.test((err as Error).message)) return undefined;
    throw err;
  }
}
