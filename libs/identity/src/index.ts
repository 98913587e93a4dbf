// @cilium-ts/identity: security identities and the kvstore.
export { canonicalLabels, needsLocalIdentity, parseLabel, parseLabelString, LOCAL_SCOPE_SOURCES } from './labels.js';
export type { Label, LabelSet } from './labels.js';
export {
  ReservedIdentity,
  MIN_CLUSTER_IDENTITY,
  MAX_CLUSTER_IDENTITY,
  LOCAL_IDENTITY_SCOPE,
  MIN_LOCAL_IDENTITY,
  MAX_LOCAL_IDENTITY,
  reservedIdentities,
  lookupReservedById,
  lookupReservedByLabels,
  lookupReservedByLabelString,
  isReservedIdentity,
  isLocalIdentity,
} from './reserved-identities.js';
export type { ReservedIdentityInfo } from './reserved-identities.js';
export type { Identity, IdentityScope, IdentityChangeEvent, IdentityChangeListener } from './identity.js';
export { IDENTITIES_PREFIX, ID_PREFIX, VALUE_PREFIX, LABELS_PREFIX, idKey, valueKey, valuePrefix, labelsKey } from './identity-keys.js';
export { Kvstore, isTransientKvError } from './kvstore.js';
export type { KvstoreOptions, KvstoreStatus, KvPair, KvCondition, KvOperation, TxnResult } from './kvstore.js';
export { PrefixWatch, watchPrefix } from './prefix-watch.js';
export type { KvEvent, KvEventHandler } from './prefix-watch.js';
export { IdentityCache } from './identity-cache.js';
export { IdentityAllocator } from './allocator.js';
export type { AllocatorOptions, AllocationResult, AllocatorStats } from './allocator.js';
export { collectGarbage } from './gc.js';
export type { GcOptions, GcResult, GcMark } from './gc.js';
export { IPCacheSync, IPCACHE_PREFIX } from './ipcache-sync.js';
export type { IPIdentityPair, EndpointIP, NamedPort, IPCacheEvent } from './ipcache-sync.js';
export { NodeRegistry, NODES_PREFIX } from './node-registry.js';
export type { NodeRegistration, NodeInfo, NodeJson, NodeEvent, NodeAddressType } from './node-registry.js';
export { SharedStore } from './shared-store.js';
export type { SharedStoreEvent, Codec } from './shared-store.js';
export { HEARTBEAT_KEY, HEARTBEAT_INTERVAL_MS, startHeartbeat, HeartbeatMonitor } from './heartbeat.js';
