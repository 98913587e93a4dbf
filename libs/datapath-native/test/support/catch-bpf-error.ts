import { BpfError } from '../../src/bpf-error.js';

/** Runs `fn`, which must fail with a BpfError, and returns that error for the test to inspect. */
export function catchBpfError(fn: () => unknown): BpfError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BpfError) return e;
    throw e;
  }
  throw new Error('expected a BpfError');
}
