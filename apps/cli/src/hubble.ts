// Entry point of the `hubble` command.
import { runHubble } from './hubble/hubble-program.js';

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
process.exitCode = await runHubble(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: abort.signal });
