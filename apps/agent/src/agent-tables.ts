// The agent's desired-state tables. Endpoints, the identities local endpoints use, every endpoint's policy
// map entries and the ipcache are kept here; reconcilers and the API read them.
import type { EndpointRecord } from './endpoint.js';
import type { IpcacheEntry, PolicyMapEntry } from './seams.js';
import { Table } from './tables.js';

export interface PolicyEntryRow {
  endpointId: number;
  entry: PolicyMapEntry;
}

export interface LocalIdentityRow {
  id: number;
  labels: readonly string[];
  /** Local endpoints using it. */
  refCount: number;
}

export interface AgentTables {
  endpoints: Table<EndpointRecord>;
  identities: Table<LocalIdentityRow>;
  policy: Table<PolicyEntryRow>;
  ipcache: Table<IpcacheEntry>;
}

/** Key of a policy map entry in upstream's order: direction, identity, protocol, port/prefix. */
export function policyEntryKey(endpointId: number, e: PolicyMapEntry): string {
  return `${String(endpointId).padStart(5, '0')}/${e.direction}/${e.identity}/${e.protocol}/${e.port}/${e.portPrefixLength ?? 16}`;
}

export function createAgentTables(): AgentTables {
  return {
    endpoints: new Table<EndpointRecord>('endpoints', (e) => String(e.id).padStart(5, '0'), [
      { name: 'container-id', keys: (e) => (e.containerId ? [e.containerId] : []) },
      { name: 'pod-name', keys: (e) => (e.namespace && e.podName ? [`${e.namespace}/${e.podName}`] : []) },
      { name: 'ip', keys: (e) => [e.ipv4, e.ipv6].filter((ip): ip is string => !!ip) },
      { name: 'identity', keys: (e) => (e.identity !== undefined ? [String(e.identity)] : []) },
    ]),
    identities: new Table<LocalIdentityRow>('identities', (r) => String(r.id).padStart(10, '0')),
    policy: new Table<PolicyEntryRow>('policy', (r) => policyEntryKey(r.endpointId, r.entry), [
      { name: 'endpoint', keys: (r) => [String(r.endpointId)] },
    ]),
    ipcache: new Table<IpcacheEntry>('ipcache', (r) => r.prefix, [{ name: 'identity', keys: (r) => [String(r.identity)] }]),
  };
}
