// GET /v1/map shows maps with their cache: the agent's desired-state tables under the names of the BPF
// maps they are written to, each entry with the reconciler's status (upstream's BPFMap cache semantics).
import type { BPFMap, BPFMapEntry, BPFMapProperties } from '@cilium-ts/agent-api';
import type { AgentTables } from './agent-tables.js';
import type { ReconcileStatus, Reconciler } from './reconciler.js';
import type { IpcacheEntry, MapInspector, PolicyMapEntry } from './seams.js';

const PROTOCOLS: Record<number, string> = { 0: 'ANY', 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };

function entry(key: string, value: string, status: ReconcileStatus | undefined): BPFMapEntry {
  const e: BPFMapEntry = { key, value, 'desired-action': status?.kind === 'done' || status === undefined ? 'ok' : 'insert' };
  if (status?.kind === 'error') e['last-error'] = status.error;
  return e;
}

export function policyMapName(endpointId: number): string {
  return `cilium_policy_${String(endpointId).padStart(5, '0')}`;
}

export function formatPolicyKey(e: PolicyMapEntry): string {
  const proto = PROTOCOLS[e.protocol] ?? String(e.protocol);
  return `${e.direction === 'ingress' ? 'Ingress' : 'Egress'}: identity=${e.identity} ${proto}/${e.port === 0 ? 'ANY' : e.port}`;
}

export class TableMapInspector implements MapInspector {
  constructor(
    private readonly tables: AgentTables,
    private readonly bpfRoot: string,
    private readonly reconcilers: { ipcache?: Reconciler<IpcacheEntry> } = {},
  ) {}

  async list(): Promise<BPFMapProperties[]> {
    const ipcacheErrors = [...(this.reconcilers.ipcache?.statuses().values() ?? [])].filter((s) => s.kind === 'error').length;
    const maps: BPFMapProperties[] = [{ name: 'cilium_ipcache', path: `${this.bpfRoot}/cilium_ipcache`, size: this.tables.ipcache.size, errors: ipcacheErrors }];
    for (const ep of this.tables.endpoints.list()) {
      const name = policyMapName(ep.id);
      // Policy maps are written synchronously by regeneration; a failure shows as the endpoint's state.
      maps.push({ name, path: `${this.bpfRoot}/${name}`, size: this.tables.policy.getBy('endpoint', String(ep.id)).length, errors: 0 });
    }
    return maps;
  }

  async dump(name: string): Promise<BPFMap | undefined> {
    if (name === 'cilium_ipcache') {
      const r = this.reconcilers.ipcache;
      return {
        path: `${this.bpfRoot}/${name}`,
        cache: this.tables.ipcache.list().map((e) =>
          entry(e.prefix, `identity=${e.identity}${e.hostIP ? ` tunnelendpoint=${e.hostIP}` : ''}`, r?.statusOf(e.prefix)),
        ),
      };
    }
    const m = /^cilium_policy_(\d{5})$/.exec(name);
    if (m) {
      const id = Number(m[1]);
      if (!this.tables.endpoints.get(m[1]!)) return undefined;
      return {
        path: `${this.bpfRoot}/${name}`,
        cache: this.tables.policy
          .getBy('endpoint', String(id))
          .map((row) => entry(formatPolicyKey(row.entry), row.entry.verdict === 'allow' ? 'Allow' : 'Deny', undefined))
          .sort((a, b) => a.key.localeCompare(b.key)),
      };
    }
    return undefined;
  }
}

