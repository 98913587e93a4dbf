export { runCilium, buildCiliumProgram } from './cilium-program.js';
export { CliError } from './cli-error.js';
export type { CliIO } from './command-context.js';
export { validatePolicyFiles, VALIDATION_UNAVAILABLE, type ValidateFiles, type FileValidationResult } from './policy-validate.js';
