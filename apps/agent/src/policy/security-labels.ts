// The agent's label strings (`k8s:app=web`, `reserved:host`) and libs/policy's Label model, and the subset of
// an endpoint's labels that makes up its security identity (upstream's default identity-relevant filter).
import { filterSecurityRelevant, LabelSource, parseLabel, type Label } from '@cilium-ts/labels';

export const INIT_LABEL: Label = { source: LabelSource.reserved, key: 'init', value: '' };

/** `source:key=value`, or `source:key` when the value is empty (the agent's and upstream's printed form). */
export function formatAgentLabel(label: Label): string {
  return label.value === '' ? `${label.source}:${label.key}` : `${label.source}:${label.key}=${label.value}`;
}

/** Parses agent label strings; a label without a source is `unspec`, as upstream's label parser has it. */
export function parseAgentLabels(labels: readonly string[]): Label[] {
  return labels.map((l) => parseLabel(l, LabelSource.unspec));
}

/**
 * The labels an endpoint's identity is allocated for. An endpoint without security-relevant labels, or one
 * still marked `reserved:init`, is the init identity's (5) until its labels are known.
 */
export function securityLabels(labels: readonly string[]): { labels: Label[]; init: boolean } {
  const relevant = filterSecurityRelevant(parseAgentLabels(labels));
  const init = relevant.length === 0 || relevant.some((l) => l.source === LabelSource.reserved && l.key === 'init');
  return init ? { labels: [INIT_LABEL], init } : { labels: relevant, init };
}
