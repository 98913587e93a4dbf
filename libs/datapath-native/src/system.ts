import { binding } from './native.js';

/** The libbpf the addon is linked against, e.g. `v1.1`. */
export function libbpfVersion(): string {
  return binding.libbpfVersion();
}

/** Possible CPUs: the number of slots in every per-CPU map value. */
export function numPossibleCpus(): number {
  return binding.numPossibleCpus();
}
