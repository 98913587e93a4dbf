// Placeholder until its issue lands: prints usage so that `cilium-operator --help` works from day one.
const usage = `Usage: cilium-operator [options]

cilium-operator is not implemented yet in this build of cilium-ts.`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(usage);
} else {
  console.error(usage);
  process.exitCode = 2;
}
