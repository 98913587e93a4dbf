// The agent's policy resolver seam: an endpoint's policy map entries from the policy engine's map state for
// its security labels (upstream's policy key: direction, identity, protocol, port and prefix, with verdict).
import { Proto, type EndpointPolicy, type MapStateEntry } from '@cilium-ts/policy';
import type { EndpointPolicyResult, EndpointView, PolicyComputeOptions, PolicyMapEntry, PolicyResolver } from '../seams.js';
import type { InvalidateListener, NodePolicy } from './node-policy.js';
import { ruleLabels } from './rule-labels.js';
import { securityLabels } from './security-labels.js';

export function policyMapEntry({ key, entry }: MapStateEntry): PolicyMapEntry {
  const anyPort = key.protocol === Proto.any || key.prefixLength === 0;
  return {
    direction: key.direction,
    identity: key.identity,
    protocol: key.protocol,
    port: anyPort ? 0 : key.port,
    ...(anyPort || key.prefixLength === 16 ? {} : { portPrefixLength: key.prefixLength }),
    verdict: entry.verdict === 'deny' ? 'deny' : 'allow',
    ...(entry.verdict === 'redirect' && entry.proxyPort > 0 ? { proxyPort: entry.proxyPort } : {}),
    derivedFrom: entry.origins.map(ruleLabels),
  };
}

function compareEntries(a: PolicyMapEntry, b: PolicyMapEntry): number {
  return a.direction.localeCompare(b.direction) || a.identity - b.identity || a.protocol - b.protocol || a.port - b.port || (a.portPrefixLength ?? 16) - (b.portPrefixLength ?? 16);
}

export function policyResult(policy: EndpointPolicy, revision: number): EndpointPolicyResult {
  return {
    revision,
    ingressEnforced: policy.enforcement.ingress,
    egressEnforced: policy.enforcement.egress,
    entries: [...policy.mapState].map(policyMapEntry).sort(compareEntries),
  };
}

export class EnginePolicyResolver implements PolicyResolver {
  constructor(private readonly node: NodePolicy) {}

  async computeFor(endpoint: EndpointView, options: PolicyComputeOptions): Promise<EndpointPolicyResult> {
    await this.node.synced;
    const { labels } = securityLabels(endpoint.labels);
    const policy = this.node.endpointPolicy(endpoint.id, labels, options.enforcement);
    return policyResult(policy, this.node.repository.revision);
  }

  onInvalidate(listener: InvalidateListener): () => void {
    return this.node.onInvalidate(listener);
  }

  forget(endpointId: number): void {
    this.node.forget(endpointId);
  }
}
