export { runCilium, buildCiliumProgram } from './cilium-program.js';
export { AgentClient, resolveSocketPath, CliError, ApiCallError } from './agent-client.js';
export type { CliIO } from './command-context.js';
export { validatePolicyFiles, VALIDATION_UNAVAILABLE, type ValidateFiles, type FileValidationResult } from './policy-validate.js';
