// Namespace scoping of selectors, as upstream applies it when it turns a namespaced policy into rules.
import type { LabelSelector } from '../selector.js';
import { labelSelector, requirement } from '../selector.js';
import { LabelSource, PodNamespaceLabel, PodNamespaceMetaLabelsPrefix } from '@cilium-ts/labels';

/** How selectors of a document are scoped: by its namespace, cluster-wide, or not at all (raw rules in tests). */
export type SelectorScope = { readonly type: 'namespace'; readonly namespace: string } | { readonly type: 'clusterwide' } | { readonly type: 'none' };

const namespaceKey = `${LabelSource.k8s}:${PodNamespaceLabel}`;

function namesNamespace(s: LabelSelector): boolean {
  return s.requirements.some(
    (r) => r.key === PodNamespaceLabel && (r.source === LabelSource.k8s || r.source === LabelSource.any),
  );
}

/** A namespaced policy's endpointSelector only selects endpoints of its namespace. */
export function scopeSubject(s: LabelSelector, scope: SelectorScope): LabelSelector {
  if (scope.type !== 'namespace') return s;
  const others = s.requirements.filter((r) => !(r.key === PodNamespaceLabel && r.source !== LabelSource.reserved));
  return labelSelector([...others, requirement(namespaceKey, 'In', [scope.namespace])]);
}

/**
 * Peer endpoint selectors: scoped to the policy's namespace unless they name the namespace or namespace
 * labels themselves or select reserved identities; in a clusterwide policy they select only pods (any namespace).
 */
export function scopePeer(s: LabelSelector, scope: SelectorScope): LabelSelector {
  if (scope.type === 'none') return s;
  if (s.requirements.some((r) => r.source === LabelSource.reserved)) return s;
  if (namesNamespace(s)) return s;
  if (scope.type === 'clusterwide') return labelSelector([...s.requirements, requirement(namespaceKey, 'Exists')]);
  if (s.requirements.some((r) => r.key.startsWith(PodNamespaceMetaLabelsPrefix))) return s;
  return labelSelector([...s.requirements, requirement(namespaceKey, 'In', [scope.namespace])]);
}
