import type { BpfMap } from '@cilium-ts/datapath-native';
import {
  decodeCtEntry,
  decodeCtKey,
  decodeIpcacheKey,
  decodeIpcacheValue,
  decodeMetricsKey,
  decodePolicyEntry,
  decodePolicyKey,
  sumMetrics,
  type PolicyKey,
} from '@cilium-ts/bpf-programs';
import { dropReasonText } from '@cilium-ts/hubble';
import type { BPFMap, BPFMapEntry, BPFMapProperties } from '@cilium-ts/agent-api';
import type { MapInspector } from '../seams.js';
import type { EndpointDatapath } from './endpoint-datapath.js';
import type { NodeDatapath } from './node-datapath.js';

const PROTOCOLS: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };
const NODE_MAPS = ['cilium_ipcache', 'cilium_lxc', 'cilium_ct4_global', 'cilium_metrics'] as const;

const ok = (key: string, value: string): BPFMapEntry => ({ key, value, 'desired-action': 'ok' });

export function formatPolicyMapKey(k: PolicyKey): string {
  const dir = k.direction === 'ingress' ? 'Ingress' : 'Egress';
  if (k.protocol === undefined) return `${dir}: identity=${k.identity} ANY/ANY`;
  const proto = PROTOCOLS[k.protocol] ?? String(k.protocol);
  if (k.port === undefined) return `${dir}: identity=${k.identity} ${proto}/ANY`;
  const bits = k.portPrefixLength ?? 16;
  const port = bits < 16 ? `${k.port}-${k.port + 2 ** (16 - bits) - 1}` : String(k.port);
  return `${dir}: identity=${k.identity} ${proto}/${port}`;
}

/**
 * What is in the kernel, read from the maps themselves (upstream's `cilium bpf ...`): the node's shared
 * maps under the pin root, and each endpoint's policy map from its loaded object.
 */
export class BpfMapInspector implements MapInspector {
  constructor(
    private readonly node: NodeDatapath,
    private readonly endpoints: EndpointDatapath,
  ) {}

  private policyMapNames(): string[] {
    return this.endpoints.programs.endpointIds().map((id) => `cilium_policy_${String(id).padStart(5, '0')}`);
  }

  private path(name: string): string {
    return `${this.node.config.bpfRoot}/${name}`;
  }

  async list(): Promise<BPFMapProperties[]> {
    const out: BPFMapProperties[] = [];
    for (const name of [...NODE_MAPS, ...this.policyMapNames()]) {
      const map = this.mapOf(name);
      if (map) out.push({ name, path: this.path(name), size: [...map.keys()].length, errors: 0 });
    }
    return out;
  }

  private mapOf(name: string): BpfMap | undefined {
    const m = /^cilium_policy_(\d{5})$/.exec(name);
    if (m) return this.endpoints.programs.policyMap(Number(m[1]));
    return (NODE_MAPS as readonly string[]).includes(name) ? this.node.map(name) : undefined;
  }

  async dump(name: string): Promise<BPFMap | undefined> {
    const map = this.mapOf(name);
    if (!map) return undefined;
    const entries = map.lookupBatch();
    let cache: BPFMapEntry[];
    switch (name) {
      case 'cilium_ipcache':
        cache = entries.map(([k, v]) => {
          const value = decodeIpcacheValue(v);
          return ok(decodeIpcacheKey(k).cidr, `identity=${value.identity}${value.tunnelEndpoint ? ` tunnelendpoint=${value.tunnelEndpoint}` : ''}`);
        });
        break;
      case 'cilium_ct4_global': {
        const now = process.hrtime.bigint();
        cache = entries.map(([k, v]) => {
          const t = decodeCtKey(k);
          const e = decodeCtEntry(v);
          const remaining = e.expires > now ? (e.expires - now) / 1_000_000_000n : 0n;
          return ok(
            `${PROTOCOLS[t.protocol] ?? t.protocol} ${t.scope === 'egress' ? 'OUT' : 'IN'} ${t.saddr}:${t.sport} -> ${t.daddr}:${t.dport}`,
            `expires=${remaining} RxPackets=${e.rxPackets} RxBytes=${e.rxBytes} TxPackets=${e.txPackets} TxBytes=${e.txBytes} Flags=${e.flags.toString(16)} SourceSecurityID=${e.remoteIdentity}`,
          );
        });
        break;
      }
      case 'cilium_metrics':
        cache = [...map.keys()].map((k) => {
          const key = decodeMetricsKey(k);
          const value = sumMetrics(map.lookupPerCpu(k) ?? []);
          const reason = key.reason === 0 ? 'Forwarded' : dropReasonText(key.reason);
          return ok(`reason=${reason} direction=${key.direction}`, `packets=${value.count} bytes=${value.bytes}`);
        });
        break;
      case 'cilium_lxc':
        cache = entries.map(([k, v]) => ok(k.toString('hex'), v.toString('hex')));
        break;
      default:
        cache = entries.map(([k, v]) => {
          const e = decodePolicyEntry(v);
          const verdict = e.deny ? 'Deny' : e.proxyPort ? `Redirect to proxy port ${e.proxyPort}` : 'Allow';
          return ok(formatPolicyMapKey(decodePolicyKey(k)), `${verdict} packets=${e.packets} bytes=${e.bytes}`);
        });
    }
    return { path: this.path(name), cache: cache.sort((a, b) => a.key.localeCompare(b.key)) };
  }
}
