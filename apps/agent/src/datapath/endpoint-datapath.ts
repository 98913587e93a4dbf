import { BpfObject, type TcLink } from '@cilium-ts/datapath-native';
import {
  deleteEndpoint,
  macBytes,
  objectPath,
  registerEndpointPolicy,
  unregisterEndpointPolicy,
  upsertEndpoint,
  writePolicy,
  type PolicyRuleEntry,
} from '@cilium-ts/bpf-programs';
import { ip } from '@cilium-ts/iproute';
import type { DatapathLoader, EndpointView, PolicyMapEntry } from '../seams.js';
import { TC_SLOT, type NodeDatapath } from './node-datapath.js';

interface LoadedEndpoint {
  object: BpfObject;
  identity: number;
  links: TcLink[];
}

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
 * Each endpoint gets its own load of bpf_lxc (its id, identity and interface as constants; its policy map
 * its own) sharing the node's pinned maps. The programs go onto the veth only once the policy map holds the
 * endpoint's policy, so an endpoint is never briefly enforced with an empty map, also after a restart.
 */
export class EndpointDatapath implements DatapathLoader {
  private readonly endpoints = new Map<number, LoadedEndpoint>();

  constructor(private readonly node: NodeDatapath) {}

  async attach(ep: EndpointView): Promise<void> {
    const ifname = required(ep.interfaceName, 'its host-side interface', ep);
    const ipv4 = required(ep.ipv4, 'its IPv4 address', ep);
    upsertEndpoint(this.node.map('cilium_lxc'), ipv4, {
      ifindex: required(ep.interfaceIndex, 'its interface index', ep),
      endpointId: ep.id,
      mac: required(ep.mac, 'its MAC', ep),
      nodeMac: required(ep.hostMac, 'its host-side MAC', ep),
      identity: ep.identity ?? 0,
    });
    await ip({}, ['route', 'replace', `${ipv4}/32`, 'dev', ifname]);
  }

  async writePolicy(ep: EndpointView, entries: readonly PolicyMapEntry[]): Promise<void> {
    const identity = required(ep.identity, 'its identity', ep);
    let loaded = this.endpoints.get(ep.id);
    const fresh = !loaded || loaded.identity !== identity;
    const object = fresh ? this.load(ep, identity) : loaded!.object;
    try {
      writePolicy(object, entries.map(toRuleEntry));
      if (fresh) {
        const ifname = required(ep.interfaceName, 'its host-side interface', ep);
        const links = [
          object.program('cil_from_container').attachTc(ifname, 'ingress', TC_SLOT),
          object.program('cil_to_container').attachTc(ifname, 'egress', TC_SLOT),
        ];
        registerEndpointPolicy(this.node.map('cilium_call_policy'), ep.id, object.program('cil_lxc_policy'));
        upsertEndpoint(this.node.map('cilium_lxc'), ep.ipv4!, {
          ifindex: ep.interfaceIndex!,
          endpointId: ep.id,
          mac: ep.mac!,
          nodeMac: ep.hostMac!,
          identity,
        });
        this.node.upsertIpcache(`${ep.ipv4}/32`, { identity });
        loaded?.object.close();
        loaded = { object, identity, links };
        this.endpoints.set(ep.id, loaded);
      }
    } catch (err) {
      if (fresh) object.close();
      throw err;
    }
  }

  async detach(ep: EndpointView): Promise<void> {
    const loaded = this.endpoints.get(ep.id);
    unregisterEndpointPolicy(this.node.map('cilium_call_policy'), ep.id);
    for (const l of loaded?.links ?? []) l.detach();
    loaded?.object.close();
    this.endpoints.delete(ep.id);
    if (ep.ipv4) {
      deleteEndpoint(this.node.map('cilium_lxc'), ep.ipv4);
      this.node.deleteIpcache(`${ep.ipv4}/32`);
      await ip({}, ['route', 'del', `${ep.ipv4}/32`]).catch(() => undefined);
    }
  }

  /** Endpoints with a loaded object, for inspection. */
  ids(): number[] {
    return [...this.endpoints.keys()].sort((a, b) => a - b);
  }

  /** The endpoint's loaded object, for inspection (`cilium bpf policy get`). */
  object(endpointId: number): BpfObject | undefined {
    return this.endpoints.get(endpointId)?.object;
  }

  private load(ep: EndpointView, identity: number): BpfObject {
    const node = this.node;
    return BpfObject.load(objectPath('bpf_lxc'), {
      pinRoot: node.config.bpfRoot,
      constants: {
        LXC_ID: ep.id,
        SECLABEL: identity,
        LXC_IFINDEX: ep.interfaceIndex ?? 0,
        ENABLE_TUNNEL: node.tunnelIfindex ? 1 : 0,
        TUNNEL_IFINDEX: node.tunnelIfindex ?? 0,
        ...(ep.hostMac ? { NODE_MAC: macBytes(ep.hostMac) } : {}),
      },
    });
  }

  close(): void {
    for (const e of this.endpoints.values()) e.object.close();
    this.endpoints.clear();
  }
}
