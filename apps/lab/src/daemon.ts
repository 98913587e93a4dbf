import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Starts a long-lived process of the lab inside a namespace, detached from `cilium-lab up` so the lab
 * outlives the command, with its output in a log file. Returns its pid (nsenter and ip netns exec both
 * exec the program, so it is the program's own).
 */
export function startDaemon(netns: string, argv: string[], logFile: string, enter: 'ip-netns-exec' | 'nsenter' = 'ip-netns-exec'): number {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    // nsenter enters only the network namespace; ip netns exec also remounts /sys, which hides bpffs.
    const [cmd, args] = enter === 'nsenter' ? ['nsenter', [`--net=/var/run/netns/${netns}`, ...argv]] : ['ip', ['netns', 'exec', netns, ...argv]];
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${argv[0]} in ${netns}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Running, and not a zombie: a killed daemon stays in the process table until its new parent reaps it. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until `ready` says yes, or fails naming what it waited for and where to look. */
export async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs: number, hint = ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${hint ? ` (${hint})` : ''}`);
    await sleep(100);
  }
}

/** Stops a process: SIGTERM, then SIGKILL if it lingers. */
export async function stopProcess(pid: number, graceMs = 3000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
