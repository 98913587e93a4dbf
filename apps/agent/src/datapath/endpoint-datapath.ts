import type { TcLink } from '@cilium-ts/datapath-native';
import { EndpointPrograms, type PolicyRuleEntry } from '@cilium-ts/bpf-programs';
import { ip } from '@cilium-ts/iproute';
import type { DatapathLoader, EndpointView, PolicyMapEntry } from '../seams.js';
import { TC_SLOT, type NodeDatapath } from './node-datapath.js';

/** The agent's policy entry as the datapath's rule: a port prefix becomes the range it covers. */
export function toRuleEntry(e: PolicyMapEntry): PolicyRuleEntry {
  const rule: PolicyRuleEntry = { identity: e.identity, direction: e.direction };
  if (e.protocol !== 0) rule.protocol = e.protocol;
  if (e.protocol !== 0 && e.port !== 0) {
    rule.port = e.port;
    const bits = e.portPrefixLength ?? 16;
    if (bits < 16) rule.endPort = e.port + 2 ** (16 - bits) - 1;
  }
  if (e.verdict === 'deny') rule.deny = true;
  if (e.proxyPort) rule.proxyPort = e.proxyPort;
  return rule;
}

function required<T>(value: T | undefined, what: string, ep: EndpointView): T {
  if (value === undefined) throw new Error(`endpoint ${ep.id}: ${what} is not known`);
  return value;
}

/**
 * The node's endpoint programs are loaded once; an endpoint is a registration in their maps (its address,
 * identity and policy map) plus the programs on its veth. The programs go onto the veth only once its
 * policy is in the maps, so an endpoint is never briefly enforced without it, also after a restart.
 */
export class EndpointDatapath implements DatapathLoader {
  private readonly registered = new Map<number, { identity: number; links: TcLink[] }>();
  readonly programs: EndpointPrograms;

  constructor(private readonly node: NodeDatapath) {
    this.programs = EndpointPrograms.load(node.config.bpfRoot, node.tunnelIfindex ? { tunnelIfindex: node.tunnelIfindex } : {});
  }

  async attach(ep: EndpointView): Promise<void> {
    const ifname = required(ep.interfaceName, 'its host-side interface', ep);
    const ipv4 = required(ep.ipv4, 'its IPv4 address', ep);
    await ip({}, ['route', 'replace', `${ipv4}/32`, 'dev', ifname]);
  }

  async writePolicy(ep: EndpointView, entries: readonly PolicyMapEntry[]): Promise<void> {
    const identity = required(ep.identity, 'its identity', ep);
    const rules = entries.map(toRuleEntry);
    const current = this.registered.get(ep.id);
    if (current && current.identity === identity) {
      this.programs.writePolicy(ep.id, rules);
      return;
    }
    const ipv4 = required(ep.ipv4, 'its IPv4 address', ep);
    this.programs.registerEndpoint(
      {
        id: ep.id,
        ips: [ipv4],
        ifindex: required(ep.interfaceIndex, 'its interface index', ep),
        mac: required(ep.mac, 'its MAC', ep),
        ...(ep.hostMac ? { nodeMac: ep.hostMac } : {}),
        identity,
      },
      rules,
    );
    const links = current?.links ?? this.programs.attach(required(ep.interfaceName, 'its host-side interface', ep), TC_SLOT);
    this.node.upsertIpcache(`${ipv4}/32`, { identity });
    this.registered.set(ep.id, { identity, links });
  }

  async detach(ep: EndpointView): Promise<void> {
    for (const l of this.registered.get(ep.id)?.links ?? []) l.detach();
    this.registered.delete(ep.id);
    this.programs.unregisterEndpoint(ep.id, ep.ipv4 ? [ep.ipv4] : []);
    if (ep.ipv4) {
      this.node.deleteIpcache(`${ep.ipv4}/32`);
      await ip({}, ['route', 'del', `${ep.ipv4}/32`]).catch(() => undefined);
    }
  }

  close(): void {
    this.programs.close();
    this.registered.clear();
  }
}
