/** An error to show the user as one line, exit status 1. */
export class CliError extends Error {
  override name = 'CliError';
}
