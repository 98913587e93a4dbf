// Collects every validation error of a document with the path of the field that caused it.

export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

export function formatIssue(i: ValidationIssue): string {
  return i.path === '' ? i.message : `${i.path}: ${i.message}`;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export class Issues {
  readonly list: ValidationIssue[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

export function quote(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
}

export function asObject(v: unknown, path: string, issues: Issues): JsonObject | undefined {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as JsonObject;
  issues.add(path, `must be an object, got ${typeName(v)}`);
  return undefined;
}

export function asList(v: unknown, path: string, issues: Issues): Json[] | undefined {
  if (Array.isArray(v)) return v as Json[];
  issues.add(path, `must be a list, got ${typeName(v)}`);
  return undefined;
}

export function asString(v: unknown, path: string, issues: Issues): string | undefined {
  if (typeof v === 'string') return v;
  issues.add(path, `must be a string, got ${typeName(v)}`);
  return undefined;
}

export function asBoolean(v: unknown, path: string, issues: Issues): boolean | undefined {
  if (typeof v === 'boolean') return v;
  issues.add(path, `must be true or false, got ${quote(v)}`);
  return undefined;
}

export function asStringList(v: unknown, path: string, issues: Issues): string[] | undefined {
  const list = asList(v, path, issues);
  if (list === undefined) return undefined;
  const out: string[] = [];
  list.forEach((item, i) => {
    const s = asString(item, `${path}[${i}]`, issues);
    if (s !== undefined) out.push(s);
  });
  return out;
}

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** Reports fields the schema does not know, with a suggestion when one is close. */
export function checkFields(obj: JsonObject, path: string, allowed: readonly string[], issues: Issues): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase() || editDistance(a, key) <= 2);
    issues.add(join(path, key), near !== undefined ? `unknown field (did you mean "${near}"?)` : 'unknown field');
  }
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
