import { FilterError } from './filter-error.js';

/**
 * Kubernetes label selectors over Cilium's source-prefixed labels (`k8s:app=web`, `reserved:world`).
 * A selector key may carry a source (`k8s:app`, `reserved:host`, `any:app`); a key without one
 * matches the label from any source.
 */

/** An endpoint's labels, parsed once and shared by all selectors. */
export type ParsedLabels = ReadonlyMap<string, ReadonlyArray<{ readonly source: string; readonly value: string }>>;

const parsedCache = new WeakMap<readonly string[], ParsedLabels>();

/** Labels are parsed once per label array; flows of one identity usually share the array. */
export function parseLabels(labels: readonly string[]): ParsedLabels {
  const cached = parsedCache.get(labels);
  if (cached) return cached;
  const byKey = new Map<string, { source: string; value: string }[]>();
  for (const label of labels) {
    const colon = label.indexOf(':');
    const eq = label.indexOf('=', colon + 1);
    const source = colon === -1 ? 'unspec' : label.slice(0, colon);
    const key = label.slice(colon + 1, eq === -1 ? undefined : eq);
    const value = eq === -1 ? '' : label.slice(eq + 1);
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push({ source, value });
  }
  parsedCache.set(labels, byKey);
  return byKey;
}

type Operator = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

interface Requirement {
  readonly source: string | undefined;
  readonly key: string;
  readonly op: Operator;
  readonly values: readonly string[];
}

// Sources Cilium knows; other text before a dot stays part of the key (`app.kubernetes.io/name`).
const knownSources = new Set(['k8s', 'reserved', 'any', 'unspec', 'container', 'cidr', 'fqdn', 'kvstore', 'etcd', 'cilium-generated', 'cilium', 'node', 'k8s-annotation']);

function splitSourceKey(raw: string): { source: string | undefined; key: string } {
  const colon = raw.indexOf(':');
  if (colon > 0) {
    const source = raw.slice(0, colon);
    return { source: source === 'any' ? undefined : source, key: raw.slice(colon + 1) };
  }
  const dot = raw.indexOf('.');
  if (dot > 0 && knownSources.has(raw.slice(0, dot))) {
    const source = raw.slice(0, dot);
    return { source: source === 'any' ? undefined : source, key: raw.slice(dot + 1) };
  }
  return { source: undefined, key: raw };
}

const keyPattern = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
const valuePattern = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function splitTopLevel(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  out.push(selector.slice(start));
  return out;
}

function parseRequirement(text: string): Requirement {
  const t = text.trim();
  if (t === '') throw new Error('empty requirement');
  const setMatch = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(t);
  let rawKey: string;
  let op: Operator;
  let values: string[] = [];
  if (setMatch) {
    rawKey = setMatch[1] ?? '';
    op = setMatch[2] as 'in' | 'notin';
    // An empty set is accepted as upstream's parser does: `in ()` selects nothing, `notin ()` all.
    values = (setMatch[3] ?? '').trim() === '' ? [] : (setMatch[3] ?? '').split(',').map((v) => v.trim());
  } else if (t.startsWith('!')) {
    rawKey = t.slice(1).trim();
    op = '!';
  } else {
    const m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(t);
    if (m) {
      rawKey = m[1] ?? '';
      const sym = m[2];
      op = sym === '!=' ? '!=' : sym === '>' ? 'gt' : sym === '<' ? 'lt' : '=';
      values = [(m[3] ?? '').trim()];
      if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(values[0] ?? '')) throw new Error(`${JSON.stringify(t)}: ${sym} needs an integer`);
    } else {
      rawKey = t;
      op = 'exists';
    }
  }
  const { source, key } = splitSourceKey(rawKey);
  if (!keyPattern.test(key)) throw new Error(`invalid label key ${JSON.stringify(rawKey)}`);
  for (const v of values) if (!valuePattern.test(v)) throw new Error(`invalid label value ${JSON.stringify(v)}`);
  return { source, key, op, values };
}

function valuesOf(labels: ParsedLabels, r: Requirement): string[] {
  const entries = labels.get(r.key);
  if (!entries) return [];
  const out: string[] = [];
  for (const e of entries) if (r.source === undefined || e.source === r.source) out.push(e.value);
  return out;
}

function requirementMatches(labels: ParsedLabels, r: Requirement): boolean {
  const found = valuesOf(labels, r);
  switch (r.op) {
    case 'exists':
      return found.length > 0;
    case '!':
      return found.length === 0;
    case '=':
    case 'in':
      return found.some((v) => r.values.includes(v));
    case '!=':
    case 'notin':
      return !found.some((v) => r.values.includes(v));
    case 'gt':
      return found.some((v) => /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]));
    case 'lt':
      return found.some((v) => /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]));
  }
}

export type LabelSelector = (labels: ParsedLabels) => boolean;

/** Parses one selector, e.g. `k8s:app=web,tier in (front, back),!reserved:world`. */
export function parseLabelSelector(selector: string, path = 'selector'): LabelSelector {
  // The empty selector selects everything, as in Kubernetes.
  if (selector.trim() === '') return () => true;
  let requirements: Requirement[];
  try {
    requirements = splitTopLevel(selector).map(parseRequirement);
  } catch (err) {
    throw new FilterError(path, `invalid label selector ${JSON.stringify(selector)}: ${(err as Error).message}`);
  }
  return (labels) => requirements.every((r) => requirementMatches(labels, r));
}

/** True when any of the selectors selects the labels. */
export function compileLabelSelectors(selectors: readonly string[], path: string): (labels: readonly string[]) => boolean {
  const compiled = selectors.map((s, i) => parseLabelSelector(s, `${path}[${i}]`));
  return (labels) => {
    const parsed = parseLabels(labels);
    return compiled.some((s) => s(parsed));
  };
}
