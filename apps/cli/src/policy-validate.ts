// Offline policy validation (no agent needed): the files must parse as YAML, then libs/policy checks
// them. The policy library is loaded lazily, and only used if this build's version offers validateFiles.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

/** What @cilium-ts/policy's validateFiles returns: the lines to print (one per document or error, each
 *  naming file, document and field) and the exit status. */
export interface FileValidationResult {
  output: string;
  exitCode: number;
}

export type ValidateFiles = (files: readonly string[]) => Promise<FileValidationResult> | FileValidationResult;

export const VALIDATION_UNAVAILABLE = 'policy validation is not available in this build';

/** YAML syntax errors with file, document and line, before any policy checking. */
export async function yamlErrors(files: readonly string[]): Promise<string[]> {
  const errors: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      errors.push(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    parseAllDocuments(text, { prettyErrors: true }).forEach((doc, i) => {
      for (const e of 'errors' in doc ? doc.errors : []) {
        const line = e.linePos?.[0]?.line;
        errors.push(`${file}: document ${i}${line ? ` line ${line}` : ''}: ${e.message.split('\n')[0]}`);
      }
    });
  }
  return errors;
}

export async function loadValidateFiles(): Promise<ValidateFiles | undefined> {
  try {
    const mod = (await import('@cilium-ts/policy')) as unknown as { validateFiles?: unknown };
    return typeof mod.validateFiles === 'function' ? (mod.validateFiles as ValidateFiles) : undefined;
  } catch {
    return undefined;
  }
}

export async function validatePolicyFiles(files: readonly string[], validate?: ValidateFiles): Promise<FileValidationResult> {
  const syntax = await yamlErrors(files);
  if (syntax.length) return { output: syntax.join('\n'), exitCode: 1 };
  const fn = validate ?? (await loadValidateFiles());
  if (!fn) throw new Error(VALIDATION_UNAVAILABLE);
  return fn(files);
}
