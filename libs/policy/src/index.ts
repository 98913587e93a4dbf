// Public API of @cilium-ts/policy.
// Labels and reserved identities live in @cilium-ts/labels; this library owns what is built on them.
export type { LocalIdentityAllocator } from './local-identities.js';
export { InMemoryLocalIdentityAllocator } from './local-identities.js';
export type { Selector, LabelSelector, CidrSelector, FqdnSelector, LabelRequirement, SelectorOperator } from './selector.js';
export { selectorKey, selectorMatches, LabelIndex, WildcardSelector, matchLabelsSelector } from './selector.js';
export type { Entity } from './entities.js';
export { Entities, entitySelectors, isEntity } from './entities.js';
export type {
  Direction,
  PolicyKind,
  L4Protocol,
  RuleOrigin,
  PortProtocol,
  PortRule,
  HttpRule,
  HeaderMatch,
  KafkaRule,
  DnsRule,
  L7Rules,
  L7Parser,
  PolicyRule,
  Policy,
  AuthMode,
} from './model.js';
export { originString, SyntheticOrigins } from './model.js';
export type { ValidationIssue } from './parse/issues.js';
export { formatIssue } from './parse/issues.js';
export type { DocumentResult, ValidationResult, ParseResult, ParseOptions } from './parse/documents.js';
export { parsePolicies, policyFromRuleSpec } from './parse/documents.js';
export type { SelectionChange, SelectorUser, IdentityUpdate } from './selector-cache.js';
export { SelectorCache, CachedSelector } from './selector-cache.js';
export type { MaskedPort } from './port-range.js';
export { portRangeToMaskedPorts, maskToPrefixLength, prefixLengthToMask } from './port-range.js';
export type { PolicyKey, PolicyEntry, MapStateEntry, MapStateView, MapStateChanges, LookupResult, Verdict } from './map-state.js';
export {
  Proto,
  AuthType,
  MapState,
  lookupMapState,
  lookupMostSpecific,
  formatPolicyKey,
  policyKeyString,
  protocolName,
} from './map-state.js';
export type { PolicyRef, ApplyResult } from './repository.js';
export { Repository, findL7Conflicts } from './repository.js';
export type { EnforcementMode, Enforcement, NamedPort } from './selector-policy.js';
export type { L7PortPolicy, L7SelectorPolicy } from './l7-policy.js';
export type { PolicyEngineOptions, EndpointPolicy } from './policy-engine.js';
export { PolicyEngine, defaultProxyPort } from './policy-engine.js';
export type { ExplainPeer, ExplainRequest, Explanation, SideExplanation, SideOutcome } from './explain.js';
export { explain, formatExplanation, UnallocatedPeerIdentity } from './explain.js';
export type { CommandResult, ExplainOfflineRequest } from './cli.js';
export { validateFiles, explainOffline, parsePeerSpec, parsePortProtocol } from './cli.js';
