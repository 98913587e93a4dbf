// Entry point of the `cilium` command.
import { runCilium } from './cilium-program.js';

process.exitCode = await runCilium(process.argv.slice(2), {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  env: process.env,
});
