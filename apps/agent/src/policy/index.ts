// The policy adapter: libs/policy's repository and engine behind the policy repository and resolver seams.
// It runs with or without a kvstore; with one, `identities` feeds the selector cache every identity the
// cluster knows, and endpoints whose policy moved because of them are regenerated. Imported policy is kept
// in the state dir and restored at start, before the endpoints are.
import { join } from 'node:path';
import type { AgentConfig } from '../config.js';
import type { AgentSeams } from '../daemon.js';
import type { AllocatedIdentity } from '../seams.js';
import { EnginePolicyRepository } from './engine-policy-repository.js';
import { EnginePolicyResolver } from './engine-policy-resolver.js';
import { NodePolicy, type CidrIdentity, type IdentitySource } from './node-policy.js';

export type { IdentitySource, CidrIdentity } from './node-policy.js';

/** The imported policy documents, in the agent's state dir. */
export const POLICY_STATE_FILE = 'policy.json';

export interface PolicySeamsOptions {
  /** The cluster's identities (kvstore); without it the selector cache holds the reserved identities only. */
  identities?: IdentitySource;
}

export interface PolicyPart {
  seams: Partial<AgentSeams>;
  /** The node-local (CIDR) identities the policy engine allocated. */
  localIdentities(): AllocatedIdentity[];
  /** The CIDR prefixes in the rules with their local identities, for the datapath's ipcache. */
  cidrIdentities: { list(): CidrIdentity[]; onChange(listener: () => void): () => void };
  close(): Promise<void>;
}

export async function policySeams(config: AgentConfig, options: PolicySeamsOptions = {}): Promise<PolicyPart> {
  const node = new NodePolicy(config.policyEnforcement, options.identities);
  // The API changes config.policyEnforcement in place (PATCH /v1/config); explain follows it.
  const repository = await EnginePolicyRepository.open(node, () => config.policyEnforcement, join(config.stateDir, POLICY_STATE_FILE));
  const resolver = new EnginePolicyResolver(node);
  return {
    seams: { policyRepository: repository, policyResolver: () => resolver },
    localIdentities: () => node.localIdentities(),
    cidrIdentities: { list: () => node.cidrIdentities(), onChange: (listener) => node.onCidrIdentitiesChange(listener) },
    close: async () => node.close(),
  };
}
