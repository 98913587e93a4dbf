// Policy documents from YAML or JSON text: single documents, `---` streams and `kind: List`.
import { parseAllDocuments } from 'yaml';
import type { Policy, PolicyKind, PolicyRule } from '../model.js';
import type { Json, ValidationIssue } from './issues.js';
import { asList, asObject, asString, checkFields, Issues, quote } from './issues.js';
import { parseCiliumRule } from './cilium-rule.js';
import { parseK8sNetworkPolicy } from './k8s-network-policy.js';

export interface DocumentResult {
  /** Position in the stream: `0`, `1`, or `2.items[3]` for an item of a List. */
  readonly index: string;
  readonly name?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly errors: readonly ValidationIssue[];
}

export interface ValidationResult {
  readonly valid: boolean;
  readonly documents: readonly DocumentResult[];
}

export interface ParseResult extends ValidationResult {
  /** The valid policies; invalid documents are left out. */
  readonly policies: readonly Policy[];
}

const apiVersions: Readonly<Record<PolicyKind, string>> = {
  NetworkPolicy: 'networking.k8s.io/v1',
  CiliumNetworkPolicy: 'cilium.io/v2',
  CiliumClusterwideNetworkPolicy: 'cilium.io/v2',
};

const dnsSubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dnsLabelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface ParseOptions {
  /** Namespace for namespaced documents without `metadata.namespace` (kubectl's `-n`); default `default`. */
  readonly defaultNamespace?: string;
}

/** Parses every policy document in a text; the result lists each document with all its errors. */
export function parsePolicies(text: string, options: ParseOptions = {}): ParseResult {
  const documents: DocumentResult[] = [];
  const policies: Policy[] = [];
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      documents.push({
        index: String(i),
        errors: doc.errors.map((e) => ({ path: '', message: `YAML syntax error: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}` })),
      });
      return;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as Json | undefined;
    // An empty document (a trailing `---`) is not a policy and not an error.
    if (value === undefined || value === null) return;
    if (typeof value === 'object' && !Array.isArray(value) && value.kind === 'List') {
      const issues = new Issues();
      checkFields(value, '', ['apiVersion', 'kind', 'items', 'metadata'], issues);
      const items = asList(value.items ?? [], 'items', issues) ?? [];
      if (!issues.empty) documents.push({ index: String(i), kind: 'List', errors: issues.list });
      items.forEach((item, j) => parseDocument(item, `${i}.items[${j}]`, options, documents, policies));
      return;
    }
    parseDocument(value, String(i), options, documents, policies);
  });
  return { valid: documents.every((d) => d.errors.length === 0), documents, policies };
}

function parseDocument(
  value: Json,
  index: string,
  options: ParseOptions,
  documents: DocumentResult[],
  policies: Policy[],
): void {
  const issues = new Issues();
  const doc = asObject(value, '', issues);
  if (doc === undefined) {
    documents.push({ index, errors: issues.list });
    return;
  }
  checkFields(doc, '', ['apiVersion', 'kind', 'metadata', 'spec', 'specs', 'status'], issues);
  const kind = doc.kind === undefined ? undefined : asString(doc.kind, 'kind', issues);
  if (doc.kind === undefined) issues.add('kind', 'required');
  let policyKind: PolicyKind | undefined;
  if (kind !== undefined) {
    if (kind in apiVersions) policyKind = kind as PolicyKind;
    else issues.add('kind', `${quote(kind)} is not one of NetworkPolicy, CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, List`);
  }
  if (policyKind !== undefined) {
    const want = apiVersions[policyKind];
    if (doc.apiVersion === undefined) issues.add('apiVersion', `required (${want})`);
    else if (doc.apiVersion !== want) issues.add('apiVersion', `${quote(doc.apiVersion)} does not match kind ${policyKind} (want ${want})`);
  }
  let name: string | undefined;
  let namespace: string | undefined;
  const meta = doc.metadata === undefined ? undefined : asObject(doc.metadata, 'metadata', issues);
  if (doc.metadata === undefined) issues.add('metadata.name', 'required');
  if (meta !== undefined) {
    if (meta.name === undefined) issues.add('metadata.name', 'required');
    else {
      name = asString(meta.name, 'metadata.name', issues);
      if (name !== undefined && (name.length > 253 || !dnsSubdomainRe.test(name))) {
        issues.add('metadata.name', `${quote(name)} is not a valid name: lowercase alphanumeric characters, '-' or '.'`);
      }
    }
    if (meta.namespace !== undefined) {
      namespace = asString(meta.namespace, 'metadata.namespace', issues);
      if (namespace !== undefined && (namespace.length > 63 || !dnsLabelRe.test(namespace))) {
        issues.add('metadata.namespace', `${quote(namespace)} is not a valid namespace name`);
      }
      if (policyKind === 'CiliumClusterwideNetworkPolicy') {
        issues.add('metadata.namespace', 'must not be set: CiliumClusterwideNetworkPolicy is cluster-scoped');
      }
    }
  }
  if (policyKind !== 'CiliumClusterwideNetworkPolicy' && namespace === undefined) {
    namespace = options.defaultNamespace ?? 'default';
  }
  const rules: PolicyRule[] = [];
  if (policyKind === 'NetworkPolicy') {
    if (doc.specs !== undefined) issues.add('specs', 'unknown field');
    if (doc.spec === undefined || doc.spec === null) issues.add('spec', 'required');
    else {
      const spec = asObject(doc.spec, 'spec', issues);
      if (spec !== undefined) rules.push(...parseK8sNetworkPolicy(spec, issues, name ?? '', namespace ?? 'default'));
    }
  } else if (policyKind !== undefined) {
    const ctx = {
      kind: policyKind,
      name: name ?? '',
      ...(namespace !== undefined ? { namespace } : {}),
      scope: namespace !== undefined ? { type: 'namespace' as const, namespace } : { type: 'clusterwide' as const },
    };
    const hasSpec = doc.spec !== undefined && doc.spec !== null;
    const hasSpecs = doc.specs !== undefined && doc.specs !== null;
    if (!hasSpec && !hasSpecs) issues.add('spec', 'required (or specs)');
    if (hasSpec) rules.push(...parseCiliumRule(doc.spec, 'spec', issues, ctx));
    if (hasSpecs) {
      (asList(doc.specs, 'specs', issues) ?? []).forEach((s, i) => rules.push(...parseCiliumRule(s, `specs[${i}]`, issues, ctx)));
    }
  }
  documents.push({
    index,
    ...(name !== undefined ? { name } : {}),
    ...(kind !== undefined ? { kind } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    errors: issues.list,
  });
  if (issues.empty && policyKind !== undefined && name !== undefined) {
    policies.push({ kind: policyKind, name, ...(namespace !== undefined ? { namespace } : {}), rules });
  }
}


/**
 * A CiliumNetworkPolicy rule spec as a policy without namespace scoping: the raw rule model of upstream's
 * unit tests (an empty endpoint selector really selects every identity). Throws with every error if invalid.
 */
export function policyFromRuleSpec(spec: unknown, name = 'test', kind: PolicyKind = 'CiliumNetworkPolicy'): Policy {
  const issues = new Issues();
  const rules = parseCiliumRule(spec, 'spec', issues, { kind, name, scope: { type: 'none' } });
  if (!issues.empty) {
    throw new Error(`parse rule ${name}: ${issues.list.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')}`);
  }
  return { kind, name, rules };
}
