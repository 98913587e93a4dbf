import { Command } from 'commander';
import { printDemoResult, runDatapathDemo } from './demo.js';

const program = new Command('cilium-lab')
  .description('The local cilium-ts lab: network namespaces as nodes and pods, the real datapath')
  .showHelpAfterError();

program
  .command('demo')
  .description('Show the datapath on real packets: two namespaces, a veth, a BPF program counting packets')
  .action(async () => {
    printDemoResult(await runDatapathDemo());
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`cilium-lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
