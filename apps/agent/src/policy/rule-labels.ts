// Upstream derives a rule's labels from the object it came from (pkg/policy/utils: derived-from, name,
// namespace); `cilium policy delete` and explanations name rules by them.
import type { RuleOrigin } from '@cilium-ts/policy';

export const POLICY_NAME_LABEL = 'io.cilium.k8s.policy.name';
export const POLICY_NAMESPACE_LABEL = 'io.cilium.k8s.policy.namespace';
export const POLICY_DERIVED_FROM_LABEL = 'io.cilium.k8s.policy.derived-from';

export function ruleLabels(origin: Pick<RuleOrigin, 'kind' | 'name' | 'namespace'>): string[] {
  if (origin.kind === 'synthetic') return [`reserved:${origin.name}`];
  const labels = [`k8s:${POLICY_DERIVED_FROM_LABEL}=${origin.kind}`, `k8s:${POLICY_NAME_LABEL}=${origin.name}`];
  if (origin.namespace !== undefined) labels.push(`k8s:${POLICY_NAMESPACE_LABEL}=${origin.namespace}`);
  return labels;
}
