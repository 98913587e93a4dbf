import { readFileSync } from 'node:fs';
import { ciliumCni } from './commands.js';
import { CniError, CniErrorCode } from './cni-error.js';
import { runPlugin } from './skel.js';
import { SUPPORTED_VERSIONS } from './versions.js';

const ABOUT = `cilium-cni: the cilium-ts CNI plugin (CNI spec ${SUPPORTED_VERSIONS.join(', ')})

A container runtime runs it with CNI_COMMAND=ADD|DEL|CHECK|VERSION|STATUS|GC in the environment and the
network configuration as JSON on stdin; the result, or an error result, is printed on stdout.`;

if (!process.env.CNI_COMMAND) {
  console.error(ABOUT);
  process.exitCode = process.argv.includes('--help') || process.argv.includes('-h') ? 0 : 1;
} else {
  let stdin = '';
  try {
    stdin = process.env.CNI_COMMAND === 'VERSION' && process.stdin.isTTY ? '{}' : readFileSync(0, 'utf8');
  } catch (err) {
    stdin = '';
    process.stdout.write(JSON.stringify(new CniError(CniErrorCode.IoFailure, 'failed to read stdin', (err as Error).message).toResult('1.1.0')));
    process.exit(1);
  }
  const out = await runPlugin(ciliumCni, process.env, stdin);
  process.stdout.write(out.stdout);
  process.exitCode = out.exitCode;
}
