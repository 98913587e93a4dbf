export * from './codecs/struct-layout.js';
export * from './codecs/ipcache.js';
export * from './codecs/endpoint.js';
export * from './codecs/policy.js';
export * from './codecs/conntrack.js';
export * from './codecs/metrics.js';
export * from './codecs/events.js';
export { objectPath, type ObjectName } from './objects.js';
export { portRangeToPrefixes, policyMapEntries, type PolicyRuleEntry, type PolicyMapEntry } from './policy-entries.js';
export {
  upsertIpcache, deleteIpcache, upsertEndpoint, deleteEndpoint, registerEndpointPolicy, unregisterEndpointPolicy,
} from './map-writers.js';
export {
  EndpointPrograms, type EndpointProgramSet, type EndpointRegistration, type NodeConstants,
} from './endpoint-programs.js';
export {
  POLICY_MAP_SIZE, ENDPOINTS_MAX, createPolicyMap, replaceEndpointPolicy, updateEndpointPolicy, deleteEndpointPolicy, endpointsWithPolicy,
  type NodePolicyMaps,
} from './endpoint-policy.js';
