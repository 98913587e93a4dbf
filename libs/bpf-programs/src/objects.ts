import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled objects under build/. */
export type ObjectName = 'bpf_lxc' | 'bpf_overlay' | 'bpf_host' | 'bpf_empty' | 'bpf_demo';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of a compiled object; the same from src/ (tests) and dist/ (run time), both one level below the package. */
export function objectPath(name: ObjectName): string {
  const path = join(packageRoot, 'build', `${name}.o`);
  if (!existsSync(path)) {
    throw new Error(`objectPath(${name}): ${path} does not exist; run the package's build (make) first`);
  }
  return path;
}
