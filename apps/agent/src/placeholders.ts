// What the agent runs with until libs/identity, libs/policy and libs/datapath-native are wired in: every
// endpoint gets the reserved "init" identity, no policy is enforced and nothing is written to the kernel.
// The agent still manages endpoints, IPAM and its API, and its health says which parts are placeholders.
import type { PolicyExplainRequest, PolicyExplainResponse, PolicyValidationResult } from '@cilium-ts/agent-api';
import {
  FeatureUnavailableError,
  PolicyValidationError,
  type AllocatedIdentity,
  type DatapathLoader,
  type EndpointPolicyResult,
  type IdentityAllocator,
  type PolicyRepository,
  type PolicyResolver,
} from './seams.js';

/** Upstream's reserved identities (pkg/identity/numericidentity.go numbering). */
export const RESERVED_IDENTITIES: readonly AllocatedIdentity[] = [
  { id: 1, labels: ['reserved:host'] },
  { id: 2, labels: ['reserved:world'] },
  { id: 3, labels: ['reserved:unmanaged'] },
  { id: 4, labels: ['reserved:health'] },
  { id: 5, labels: ['reserved:init'] },
  { id: 6, labels: ['reserved:remote-node'] },
  { id: 7, labels: ['reserved:kube-apiserver'] },
  { id: 8, labels: ['reserved:ingress'] },
];
const INIT = RESERVED_IDENTITIES[4]!;

export const IDENTITY_PLACEHOLDER_NOTE = 'placeholder: no kvstore (kvstore-endpoints is empty), libs/identity not used: endpoints get reserved:init (5)';
export const POLICY_PLACEHOLDER_NOTE = 'placeholder: libs/policy not wired, rules are stored but not enforced';
export const DATAPATH_PLACEHOLDER_NOTE = 'placeholder: libs/datapath-native not wired, nothing is written to the kernel';

export class InitIdentityPlaceholder implements IdentityAllocator {
  async allocate(_labels: readonly string[]): Promise<AllocatedIdentity> {
    return INIT;
  }
  async release(_id: number): Promise<void> {}
  async get(id: number): Promise<AllocatedIdentity | undefined> {
    return RESERVED_IDENTITIES.find((i) => i.id === id);
  }
  async list(): Promise<AllocatedIdentity[]> {
    return [...RESERVED_IDENTITIES];
  }
}

export class NoEnforcementResolver implements PolicyResolver {
  constructor(private readonly repository: PolicyRepository) {}
  async computeFor(): Promise<EndpointPolicyResult> {
    return { revision: this.repository.revision(), ingressEnforced: false, egressEnforced: false, entries: [] };
  }
}

export class NoDatapath implements DatapathLoader {
  async attach(): Promise<void> {}
  async writePolicy(): Promise<void> {}
  async detach(): Promise<void> {}
}

const POLICY_KINDS = ['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'NetworkPolicy'];

interface StoredRule {
  kind: string;
  name: string;
  namespace?: string;
  document: unknown;
}

/** Labels upstream derives for a rule from its object: policy name, namespace, kind. */
function ruleLabels(r: StoredRule): string[] {
  const labels = [`k8s:io.cilium.k8s.policy.name=${r.name}`, `k8s:io.cilium.k8s.policy.derived-from=${r.kind}`];
  if (r.namespace) labels.push(`k8s:io.cilium.k8s.policy.namespace=${r.namespace}`);
  return labels;
}

/** Keeps imported policy documents with a revision, checking only what it needs to key them. */
export class StoredPolicyPlaceholder implements PolicyRepository {
  private rev = 1;
  private readonly stored = new Map<string, StoredRule>();
  private readonly listeners = new Set<(revision: number) => void>();

  revision(): number {
    return this.rev;
  }

  rules(): unknown[] {
    return [...this.stored.values()].map((r) => r.document);
  }

  async import(documents: readonly unknown[]): Promise<{ revision: number }> {
    const parsed = documents.map((d, i) => this.key(d, i));
    const errors = parsed.filter((p): p is string => typeof p === 'string');
    if (errors.length) throw new PolicyValidationError(errors);
    for (const r of parsed as StoredRule[]) this.stored.set(`${r.kind}/${r.namespace ?? ''}/${r.name}`, r);
    return { revision: this.bump() };
  }

  async delete(labels: readonly string[]): Promise<{ revision: number; deleted: number }> {
    let deleted = 0;
    for (const [k, r] of [...this.stored]) {
      const have = ruleLabels(r);
      if (labels.every((l) => have.includes(l))) {
        this.stored.delete(k);
        deleted++;
      }
    }
    return { revision: deleted ? this.bump() : this.rev, deleted };
  }

  validate(): PolicyValidationResult {
    throw new FeatureUnavailableError('policy validation is not available in this build (libs/policy not wired)');
  }

  async explain(_req: PolicyExplainRequest): Promise<PolicyExplainResponse> {
    throw new FeatureUnavailableError('policy explain is not available in this build (libs/policy not wired)');
  }

  onChange(listener: (revision: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bump(): number {
    this.rev++;
    for (const l of this.listeners) l(this.rev);
    return this.rev;
  }

  private key(doc: unknown, i: number): StoredRule | string {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return `[${i}]: must be an object`;
    const d = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    if (typeof d.kind !== 'string' || !POLICY_KINDS.includes(d.kind)) return `[${i}].kind: must be one of ${POLICY_KINDS.join(', ')}`;
    if (typeof d.metadata?.name !== 'string' || !d.metadata.name) return `[${i}].metadata.name: is required`;
    const ns = d.metadata.namespace;
    if (ns !== undefined && typeof ns !== 'string') return `[${i}].metadata.namespace: must be a string`;
    const rule: StoredRule = { kind: d.kind, name: d.metadata.name, document: doc };
    if (d.kind !== 'CiliumClusterwideNetworkPolicy') rule.namespace = ns ?? 'default';
    return rule;
  }
}
