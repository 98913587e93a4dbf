// POST /v1/policy/explain over libs/policy's explain: each side's peer resolved to labels (and its identity
// when the node knows one), the verdict of the source's egress and the destination's ingress, and the rules
// that decided each side.
import type { PolicyExplainPeer, PolicyExplainRequest, PolicyExplainResponse } from '@cilium-ts/agent-api';
import { explain, formatExplanation, type ExplainPeer, type PolicyEngine, type SideExplanation } from '@cilium-ts/policy';
import { filterSecurityRelevant, LabelSource, parseLabels } from '@cilium-ts/labels';
import { PolicyValidationError, type AllocatedIdentity } from '../seams.js';
import { parseAgentLabels } from './security-labels.js';
import { ruleLabels } from './rule-labels.js';

async function peerOf(
  engine: PolicyEngine,
  field: 'from' | 'to',
  peer: PolicyExplainPeer,
  resolve: (peer: PolicyExplainPeer) => Promise<AllocatedIdentity | undefined>,
): Promise<ExplainPeer> {
  if (peer.labels?.length) {
    // Labels as a user writes them (`app=web`) are Kubernetes labels, as in `cilium policy explain`.
    return { labels: filterSecurityRelevant(parseLabels(peer.labels, LabelSource.k8s)) };
  }
  const resolved = await resolve(peer);
  if (!resolved) {
    const what = peer.identity !== undefined ? `identity ${peer.identity}` : peer.endpoint !== undefined ? `endpoint ${peer.endpoint}` : 'peer';
    throw new PolicyValidationError([`${field}: ${what} is not known on this node (give labels, an identity or an endpoint)`]);
  }
  if (engine.selectorCache.labels(resolved.id)) return { identity: resolved.id };
  return { labels: filterSecurityRelevant(parseAgentLabels(resolved.labels)) };
}

function decidingRules(side: SideExplanation): PolicyExplainResponse['rules'] {
  if (side.outcome !== 'allowed' && side.outcome !== 'redirected' && side.outcome !== 'denied') return [];
  const verdict = side.outcome === 'denied' ? 'deny' : 'allow';
  return side.rules.filter((o) => o.kind !== 'synthetic').map((o) => ({ direction: side.direction, verdict, labels: ruleLabels(o) }));
}

export async function explainWithEngine(
  engine: PolicyEngine,
  request: PolicyExplainRequest,
  resolve: (peer: PolicyExplainPeer) => Promise<AllocatedIdentity | undefined>,
): Promise<PolicyExplainResponse> {
  const source = await peerOf(engine, 'from', request.from, resolve);
  const destination = await peerOf(engine, 'to', request.to, resolve);
  const protocol = request.protocol === undefined ? 'TCP' : request.protocol === 'ANY' ? 0 : request.protocol;
  const e = explain(engine, { source, destination, port: request.dport ?? 0, protocol });
  const sides = [e.egress, e.ingress];
  const enforced = sides.some((s) => s.enforced);
  let verdict: PolicyExplainResponse['verdict'];
  if (e.allowed) verdict = enforced ? 'allowed' : 'no-enforcement';
  else verdict = sides.some((s) => s.outcome === 'denied') ? 'denied' : 'default-denied';
  return { verdict, log: formatExplanation(e).split('\n'), rules: sides.flatMap(decidingRules) };
}
