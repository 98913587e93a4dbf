// The agent's policy repository seam over libs/policy: documents are parsed and validated as one batch, and
// either all of them take effect or none (enforcement stays as it was); every error names its document and
// the field's path. The accepted documents are kept in the state dir, so that an agent restarting with its
// endpoints restored enforces the same policy (the kvstore and Kubernetes are not the policy's home here).
import type { PolicyExplainRequest, PolicyExplainResponse, PolicyValidationResult } from '@cilium-ts/agent-api';
import { findL7Conflicts, formatIssue, parsePolicies, type DocumentResult, type Policy } from '@cilium-ts/policy';
import { LabelSource, parseLabel } from '@cilium-ts/labels';
import { PolicyValidationError, type AllocatedIdentity, type PolicyRepository } from '../seams.js';
import { readJsonIfExists, writeJsonAtomic } from '../state-file.js';
import { explainWithEngine } from './explain.js';
import type { NodePolicy } from './node-policy.js';
import { ruleLabels } from './rule-labels.js';

function policyKey(p: Pick<Policy, 'kind' | 'namespace' | 'name'>): string {
  return `${p.kind}/${p.namespace ?? ''}/${p.name}`;
}

function describe(d: DocumentResult): string {
  const name = d.name === undefined ? '' : ` ${d.namespace !== undefined ? `${d.namespace}/` : ''}${d.name}`;
  return `document ${d.index}${d.kind ? ` (${d.kind}${name})` : ''}`;
}

/** The documents as one YAML stream (JSON is YAML), so the parser's document indices are the array's. */
function asStream(documents: readonly unknown[]): string {
  return documents.map((d) => JSON.stringify(d)).join('\n---\n');
}

/** Whether a rule carrying `have` matches the requested label (a label without a source matches any). */
function carries(have: readonly string[], wanted: string): boolean {
  const w = parseLabel(wanted, LabelSource.any);
  return have.some((h) => {
    const l = parseLabel(h, LabelSource.unspec);
    return l.key === w.key && l.value === w.value && (w.source === LabelSource.any || w.source === l.source);
  });
}

export class EnginePolicyRepository implements PolicyRepository {
  /** The accepted documents as given, by kind/namespace/name (what GET /v1/policy returns). */
  private readonly documents = new Map<string, unknown>();
  /** Writes of the state file, one after the other. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly node: NodePolicy,
    private readonly enforcement: () => 'default' | 'always' | 'never',
    private readonly statePath?: string,
  ) {}

  /** A repository holding the documents saved at `statePath` (if any). */
  static async open(node: NodePolicy, enforcement: () => 'default' | 'always' | 'never', statePath: string): Promise<EnginePolicyRepository> {
    const repo = new EnginePolicyRepository(node, enforcement, statePath);
    const saved = await readJsonIfExists(statePath);
    if (saved === undefined) return repo;
    if (!Array.isArray(saved)) throw new Error(`restore policy from ${statePath}: not a list of policy documents`);
    if (saved.length === 0) return repo;
    const { policies, errors } = repo.check(saved);
    // Starting without the saved policy would allow what it denied; refuse, and leave the datapath as it is.
    if (errors.length) throw new Error(`restore policy from ${statePath}: ${errors.join('; ')}`);
    const result = node.repository.upsert(policies);
    if (!result.ok) throw new Error(`restore policy from ${statePath}: ${result.errors.join('; ')}`);
    policies.forEach((p, i) => repo.documents.set(policyKey(p), saved[i]));
    return repo;
  }

  revision(): number {
    return this.node.repository.revision;
  }

  rules(): unknown[] {
    return [...this.documents.values()];
  }

  async import(documents: readonly unknown[]): Promise<{ revision: number }> {
    const { policies, errors } = this.check(documents);
    if (errors.length) throw new PolicyValidationError(errors);
    const result = this.node.repository.upsert(policies);
    if (!result.ok) throw new PolicyValidationError(result.errors.map((e) => `policy import: ${e}`));
    policies.forEach((p, i) => this.documents.set(policyKey(p), documents[i]));
    await this.save();
    return { revision: result.revision };
  }

  async delete(labels: readonly string[]): Promise<{ revision: number; deleted: number }> {
    let deleted = 0;
    for (const p of this.node.repository.list()) {
      const have = ruleLabels(p);
      if (!labels.every((l) => carries(have, l))) continue;
      deleted += this.node.repository.delete({ kind: p.kind, name: p.name, ...(p.namespace !== undefined ? { namespace: p.namespace } : {}) });
      this.documents.delete(policyKey(p));
    }
    if (deleted) await this.save();
    return { revision: this.node.repository.revision, deleted };
  }

  validate(documents: readonly unknown[]): PolicyValidationResult {
    const { errors } = this.check(documents);
    return { valid: errors.length === 0, errors };
  }

  explain(request: PolicyExplainRequest, resolve: (peer: PolicyExplainRequest['from']) => Promise<AllocatedIdentity | undefined>): Promise<PolicyExplainResponse> {
    return explainWithEngine(this.node.engineFor(this.enforcement()), request, resolve);
  }

  onChange(listener: (revision: number) => void): () => void {
    return this.node.repository.onChange(listener);
  }

  private save(): Promise<void> {
    const path = this.statePath;
    if (!path) return Promise.resolve();
    const snapshot = this.rules();
    const next = this.saving.catch(() => undefined).then(() => writeJsonAtomic(path, snapshot));
    this.saving = next;
    return next;
  }

  /**
   * Parses the documents and checks them against the policies in force (L7 parser conflicts). Documents map
   * one to one onto policies when valid: a List was unwrapped by the API before.
   */
  private check(documents: readonly unknown[]): { policies: readonly Policy[]; errors: string[] } {
    const parsed = parsePolicies(asStream(documents));
    const errors = parsed.documents.flatMap((d) => d.errors.map((e) => `${describe(d)}: ${formatIssue(e)}`));
    if (errors.length) return { policies: [], errors };
    if (parsed.policies.length !== documents.length) {
      return { policies: [], errors: [`expected ${documents.length} policy documents, found ${parsed.policies.length}`] };
    }
    const next = new Map(this.node.repository.list().map((p) => [policyKey(p), p]));
    for (const p of parsed.policies) next.set(policyKey(p), p);
    const conflicts = findL7Conflicts([...next.values()].flatMap((p) => p.rules));
    return { policies: parsed.policies, errors: conflicts };
  }
}
