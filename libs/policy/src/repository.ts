// The policy repository: every accepted policy by kind, namespace and name, with a revision per change.
import type { Policy, PolicyKind, PolicyRule } from './model.js';
import { originString } from './model.js';
import type { ParseOptions, ParseResult } from './parse/documents.js';
import { parsePolicies } from './parse/documents.js';
import type { LabelSelector } from './selector.js';
import { selectorKey } from './selector.js';
import { LabelSource, PodNamespaceLabel } from '@cilium-ts/labels';

/** Rules sharing one subject selector, evaluated once per endpoint. */
export interface SubjectGroup {
  readonly subject: LabelSelector;
  readonly rules: readonly PolicyRule[];
}

/** Subject groups by the one namespace their selector requires (`*`: any namespace). */
export type SubjectIndex = ReadonlyMap<string, readonly SubjectGroup[]>;

function requiredNamespace(s: LabelSelector): string | undefined {
  const r = s.requirements.find(
    (q) => q.key === PodNamespaceLabel && q.operator === 'In' && q.values.length === 1 && (q.source === LabelSource.k8s || q.source === LabelSource.any),
  );
  return r?.values[0];
}

export interface PolicyRef {
  readonly kind?: PolicyKind;
  readonly namespace?: string;
  readonly name: string;
}

export interface ApplyResult {
  readonly ok: boolean;
  readonly revision: number;
  /** Parse and validation results, per document. */
  readonly parse?: ParseResult;
  /** Errors found when merging with the policies already in the repository. */
  readonly errors: readonly string[];
}

function policyId(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export class Repository {
  private readonly policies = new Map<string, Policy>();
  private revisionNumber = 1;
  private cachedRules: PolicyRule[] | undefined;
  private cachedIndex: SubjectIndex | undefined;
  private cachedPositions: Map<PolicyRule, number> | undefined;
  private readonly listeners = new Set<(revision: number) => void>();

  get revision(): number {
    return this.revisionNumber;
  }

  /** Called after every change with the new revision. */
  onChange(listener: (revision: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Parses YAML/JSON text and adds or replaces its policies; any invalid document rejects the whole text. */
  apply(text: string, options: ParseOptions = {}): ApplyResult {
    const parse = parsePolicies(text, options);
    if (!parse.valid) return { ok: false, revision: this.revisionNumber, parse, errors: [] };
    const r = this.upsert(parse.policies);
    return { ...r, parse };
  }

  /** Adds or replaces policies (matched by kind, namespace, name) as one change, or none if they conflict. */
  upsert(policies: readonly Policy[]): ApplyResult {
    const next = new Map(this.policies);
    for (const p of policies) next.set(policyId(p.kind, p.namespace, p.name), p);
    const errors = findL7Conflicts([...next.values()].flatMap((p) => p.rules));
    if (errors.length > 0) return { ok: false, revision: this.revisionNumber, errors };
    for (const p of policies) this.policies.set(policyId(p.kind, p.namespace, p.name), p);
    this.bump();
    return { ok: true, revision: this.revisionNumber, errors: [] };
  }

  /** Deletes the policy (of any kind when `kind` is not given); returns how many were deleted. */
  delete(ref: PolicyRef): number {
    let n = 0;
    for (const [id, p] of this.policies) {
      if (p.name !== ref.name || p.namespace !== ref.namespace) continue;
      if (ref.kind !== undefined && p.kind !== ref.kind) continue;
      this.policies.delete(id);
      n++;
    }
    if (n > 0) this.bump();
    return n;
  }

  get(ref: PolicyRef): Policy | undefined {
    for (const p of this.policies.values()) {
      if (p.name === ref.name && p.namespace === ref.namespace && (ref.kind === undefined || p.kind === ref.kind)) return p;
    }
    return undefined;
  }

  list(): Policy[] {
    return [...this.policies.values()];
  }

  rules(): readonly PolicyRule[] {
    this.cachedRules ??= [...this.policies.values()].flatMap((p) => p.rules);
    return this.cachedRules;
  }

  /** Position of a rule in {@link rules}, to keep results in repository order. */
  position(rule: PolicyRule): number {
    if (this.cachedPositions === undefined) {
      this.cachedPositions = new Map();
      this.rules().forEach((r, i) => this.cachedPositions!.set(r, i));
    }
    return this.cachedPositions.get(rule) ?? -1;
  }

  /** The rules grouped by subject selector and indexed by namespace, so an endpoint checks only its own. */
  subjectIndex(): SubjectIndex {
    if (this.cachedIndex !== undefined) return this.cachedIndex;
    const groups = new Map<string, { subject: LabelSelector; rules: PolicyRule[] }>();
    for (const r of this.rules()) {
      const k = selectorKey(r.subject);
      const g = groups.get(k);
      if (g === undefined) groups.set(k, { subject: r.subject, rules: [r] });
      else g.rules.push(r);
    }
    const index = new Map<string, SubjectGroup[]>();
    for (const g of groups.values()) {
      const ns = requiredNamespace(g.subject) ?? '*';
      const list = index.get(ns);
      if (list === undefined) index.set(ns, [g]);
      else list.push(g);
    }
    this.cachedIndex = index;
    return index;
  }

  private bump(): void {
    this.revisionNumber++;
    this.cachedRules = undefined;
    this.cachedIndex = undefined;
    this.cachedPositions = undefined;
    for (const l of this.listeners) l(this.revisionNumber);
  }
}

/**
 * S-15: rules that select the same endpoints with the same peer on the same port must use one L7 parser.
 * Exact across rules with identical selectors; overlaps between different selectors are caught per endpoint.
 */
export function findL7Conflicts(rules: readonly PolicyRule[]): string[] {
  const seen = new Map<string, { parser: string; rule: PolicyRule }>();
  const errors: string[] = [];
  for (const rule of rules) {
    if (rule.deny || rule.toPorts === undefined) continue;
    for (const pr of rule.toPorts) {
      if (pr.l7 === undefined) continue;
      for (const pp of pr.ports) {
        for (const peer of rule.peers) {
          const at = [selectorKey(rule.subject), rule.direction, pp.protocol, pp.port, pp.endPort ?? '', selectorKey(peer)].join('|');
          const prev = seen.get(at);
          if (prev !== undefined && prev.parser !== pr.l7.type) {
            errors.push(
              `${originString(rule.origin)}: cannot merge conflicting L7 parsers (${prev.parser} in ${originString(prev.rule.origin)} and ${pr.l7.type}) on ${pp.protocol}/${pp.port}`,
            );
          } else if (prev === undefined) seen.set(at, { parser: pr.l7.type, rule });
        }
      }
    }
  }
  return errors;
}
