// Shared fixture of policy-semantics.md: endpoint foo (identity 100, labels foo, blue) and bar (200, bar, blue).
import type { MapStateView, NamedPort, Policy, PolicyEngineOptions } from '../src/index.js';
import type { Label } from '@cilium-ts/labels';
import { formatPolicyKey, PolicyEngine, policyFromRuleSpec } from '../src/index.js';
import { parseLabels } from '@cilium-ts/labels';

export const fooLabels: Label[] = parseLabels('k8s:foo k8s:blue');
export const barLabels: Label[] = parseLabels('k8s:bar k8s:blue');
export const FOO = 100;
export const BAR = 200;

/** An engine knowing foo and bar, with the given rule specs (raw, unscoped) and foo as endpoint 1. */
export function fooPolicy(
  specs: readonly unknown[],
  options: PolicyEngineOptions & { namedPorts?: NamedPort[]; identities?: { id: number; labels: Label[] }[] } = {},
) {
  const engine = new PolicyEngine({ allowLocalhost: 'policy', ...options });
  engine.updateIdentities([{ id: FOO, labels: fooLabels }, { id: BAR, labels: barLabels }, ...(options.identities ?? [])]);
  const policies: Policy[] = specs.map((s, i) => policyFromRuleSpec(s, `rule${i}`));
  const r = engine.repository.upsert(policies);
  if (!r.ok) throw new Error(r.errors.join('; '));
  const { policy } = engine.upsertEndpoint(1, fooLabels, options.namedPorts ?? []);
  return { engine, policy };
}

/** Map state as sorted `(id, L4, dir) verdict` lines. */
export function entries(state: MapStateView): string[] {
  return [...state].map((e) => `${formatPolicyKey(e.key)} ${e.entry.verdict}`).sort();
}

export const sel = (...labels: string[]) => ({ matchLabels: Object.fromEntries(labels.map((l) => [l, ''])) });
export const foo = sel('k8s:foo');
export const bar = sel('k8s:bar');
