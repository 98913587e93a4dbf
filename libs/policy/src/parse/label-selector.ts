// Kubernetes LabelSelector (matchLabels, matchExpressions) to our selector model, with validation.
import type { LabelRequirement, LabelSelector, SelectorOperator } from '../selector.js';
import { labelSelector, requirement } from '../selector.js';
import { isKnownLabelSource } from '@cilium-ts/labels';
import type { Issues } from './issues.js';
import { asList, asObject, asString, asStringList, checkFields, join, quote } from './issues.js';

const nameRe = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const dnsSubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Checks a selector key (`k8s:app`, `app.kubernetes.io/name`, `reserved:host`); returns a reason if invalid. */
export function labelKeyProblem(key: string): string | undefined {
  let rest = key;
  const colon = key.indexOf(':');
  if (colon >= 0) {
    const source = key.slice(0, colon);
    if (!isKnownLabelSource(source)) return `${quote(key)} has an unknown label source ${quote(source)}`;
    rest = key.slice(colon + 1);
  }
  const slash = rest.lastIndexOf('/');
  const name = slash >= 0 ? rest.slice(slash + 1) : rest;
  const prefix = slash >= 0 ? rest.slice(0, slash) : undefined;
  if (prefix !== undefined && (prefix.length > 253 || !dnsSubdomainRe.test(prefix))) {
    return `${quote(key)} is not a valid label key: the prefix must be a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !nameRe.test(name)) {
    return `${quote(key)} is not a valid label key: the name must be 1-63 alphanumeric characters, '-', '_' or '.'`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !nameRe.test(value)) {
    return `${quote(value)} is not a valid label value: at most 63 alphanumeric characters, '-', '_' or '.'`;
  }
  return undefined;
}

const operators: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export interface SelectorKeyMapping {
  /** Rewrites a key as written to the key matched (KNP adds `k8s:`, namespaceSelector adds the namespace-labels prefix). */
  (key: string): string;
}

const identityKey: SelectorKeyMapping = (k) => k;

/** Parses a LabelSelector; undefined when invalid (errors reported). */
export function parseLabelSelector(
  v: unknown,
  path: string,
  issues: Issues,
  mapKey: SelectorKeyMapping = identityKey,
): LabelSelector | undefined {
  const obj = asObject(v, path, issues);
  if (obj === undefined) return undefined;
  const before = issues.list.length;
  checkFields(obj, path, ['matchLabels', 'matchExpressions'], issues);
  const reqs: LabelRequirement[] = [];
  if (obj.matchLabels !== undefined && obj.matchLabels !== null) {
    const mlPath = join(path, 'matchLabels');
    const ml = asObject(obj.matchLabels, mlPath, issues);
    for (const [key, value] of Object.entries(ml ?? {})) {
      const kp = `${mlPath}.${key}`;
      const keyProblem = labelKeyProblem(key);
      if (keyProblem !== undefined) issues.add(kp, keyProblem);
      const s = typeof value === 'number' || typeof value === 'boolean' ? undefined : asString(value, kp, issues);
      if (typeof value === 'number' || typeof value === 'boolean') {
        issues.add(kp, `must be a string, got ${quote(value)} (quote it)`);
      }
      if (s !== undefined) {
        const valueProblem = labelValueProblem(s);
        if (valueProblem !== undefined) issues.add(kp, valueProblem);
        reqs.push(requirement(mapKey(key), 'In', [s]));
      }
    }
  }
  if (obj.matchExpressions !== undefined && obj.matchExpressions !== null) {
    const mePath = join(path, 'matchExpressions');
    const list = asList(obj.matchExpressions, mePath, issues) ?? [];
    list.forEach((item, i) => {
      const ip = `${mePath}[${i}]`;
      const e = asObject(item, ip, issues);
      if (e === undefined) return;
      checkFields(e, ip, ['key', 'operator', 'values'], issues);
      const key = e.key === undefined ? undefined : asString(e.key, `${ip}.key`, issues);
      if (e.key === undefined) issues.add(`${ip}.key`, 'required');
      else if (key !== undefined) {
        const p = labelKeyProblem(key);
        if (p !== undefined) issues.add(`${ip}.key`, p);
      }
      const op = e.operator === undefined ? undefined : asString(e.operator, `${ip}.operator`, issues);
      if (e.operator === undefined) issues.add(`${ip}.operator`, 'required');
      else if (op !== undefined && !operators.includes(op as SelectorOperator)) {
        issues.add(`${ip}.operator`, `${quote(op)} is not one of In, NotIn, Exists, DoesNotExist`);
      }
      const values = e.values === undefined || e.values === null ? [] : asStringList(e.values, `${ip}.values`, issues);
      if (op === 'In' || op === 'NotIn') {
        if (values !== undefined && values.length === 0) {
          issues.add(`${ip}.values`, `must be non-empty when operator is ${op}`);
        }
      } else if ((op === 'Exists' || op === 'DoesNotExist') && values !== undefined && values.length > 0) {
        issues.add(`${ip}.values`, `must be empty when operator is ${op}`);
      }
      if (key !== undefined && op !== undefined && operators.includes(op as SelectorOperator) && values !== undefined) {
        reqs.push(requirement(mapKey(key), op as SelectorOperator, values));
      }
    });
  }
  if (issues.list.length > before) return undefined;
  return labelSelector(reqs);
}
