// Placeholder until its issue lands: prints usage so that `hubble-ui --help` works from day one.
const usage = `Usage: hubble-ui [options]

hubble-ui is not implemented yet in this build of cilium-ts.`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(usage);
} else {
  console.error(usage);
  process.exitCode = 2;
}
