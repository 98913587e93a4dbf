// What a test makes in the kernel (namespaces, veths, cgroups, pins, BPF objects), undone in reverse
// order by cleanup(), which runs every step even when one fails.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A compiled test program: test/bpf/<name>.bpf.c -> build/test-bpf/<name>.o */
export function testObject(name: string): string {
  return fileURLToPath(new URL(`../../build/test-bpf/${name}.o`, import.meta.url));
}

export function randomSuffix(): string {
  return randomBytes(3).toString('hex');
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Netns {
  name: string;
  /** The file to pass as `netns`. */
  path: string;
}

export class Scratch {
  readonly #undo: Array<() => void> = [];

  /** Registers an undo step; steps run last-in first-out. */
  defer(step: () => void): void {
    this.#undo.push(step);
  }

  netns(): Netns {
    const name = `ctsdn-${randomSuffix()}`;
    run('ip', ['netns', 'add', name]);
    // A test may delete it itself (to see what happens to attachments); then there is nothing to do.
    this.defer(() => existsSync(`/var/run/netns/${name}`) && run('ip', ['netns', 'del', name]));
    run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return { name, path: `/var/run/netns/${name}` };
  }

  /** A veth pair with one end in each namespace (both in `a` when `b` is omitted), links up.
   *  Deleting the namespaces removes it. */
  veth(a: Netns, b: Netns = a): { a: string; b: string } {
    const s = randomSuffix();
    const names = { a: `ctva${s}`, b: `ctvb${s}` };
    run('ip', ['-n', a.name, 'link', 'add', names.a, 'type', 'veth', 'peer', 'name', names.b, 'netns', b.name]);
    run('ip', ['-n', a.name, 'link', 'set', names.a, 'up']);
    run('ip', ['-n', b.name, 'link', 'set', names.b, 'up']);
    return names;
  }

  /** A fresh cgroup v2 directory, removed afterwards. */
  cgroup(): string {
    const root = run('findmnt', ['-n', '-t', 'cgroup2', '-o', 'TARGET']).split('\n')[0]?.trim();
    if (!root) throw new Error('no cgroup2 mount');
    const path = `${root}/ctsdn-${randomSuffix()}`;
    mkdirSync(path);
    this.defer(() => rmdirSync(path));
    return path;
  }

  /** A fresh directory in bpffs, removed with everything pinned in it. */
  pinDir(): string {
    const path = `/sys/fs/bpf/ctsdn-${randomSuffix()}`;
    this.defer(() => rmSync(path, { recursive: true, force: true }));
    return path;
  }

  /** Something with close() (objects, maps, links' detach wrapped by the caller). */
  closeLater<T extends { close(): unknown }>(thing: T): T {
    this.defer(() => void thing.close());
    return thing;
  }

  cleanup(): void {
    const errors: unknown[] = [];
    for (const step of this.#undo.splice(0).reverse()) {
      try {
        step();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `cleanup: ${errors.length} step(s) failed`);
  }
}
