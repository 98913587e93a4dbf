// The endpoint programs of a node: bpf_lxc loaded once per pin root and attached to every endpoint's veth.
// An endpoint is only entries in the node's maps, so creating one costs map writes and two tc attaches
// instead of a verifier run.
import { BpfObject, type BpfMap, type BpfProgram, type TcAttachOptions, type TcLink } from '@cilium-ts/datapath-native';
import { deleteEndpoint, registerEndpointPolicy, unregisterEndpointPolicy, upsertEndpoint } from './map-writers.js';
import {
  type NodePolicyMaps, deleteEndpointPolicy, endpointIdKey, endpointsWithPolicy, replaceEndpointPolicy, updateEndpointPolicy,
} from './endpoint-policy.js';
import { objectPath } from './objects.js';
import type { PolicyRuleEntry } from './policy-entries.js';

/** Settings of the node that every endpoint shares (bpf_lxc's `const volatile` globals). */
export interface NodeConstants {
  /** ifindex of the overlay device: traffic for pods behind other nodes (an ipcache entry with a tunnel
   *  endpoint) goes there. Absent: tunnelling off. */
  tunnelIfindex?: number;
  /** Monitor aggregation: at most one trace per connection direction this often (default 5 s). */
  traceIntervalNs?: bigint;
  /** 0 (default): wake the event reader adaptively; N: once N bytes wait (see bpf/lib/events.h). */
  eventsWakeupBytes?: number;
}

/** What the programs need to know about a local endpoint. */
export interface EndpointRegistration {
  /** Endpoint id (0..65535): its slot in cilium_call_policy, cilium_policy_maps and cilium_pol_lens. */
  id: number;
  /** The pod's addresses; its packets must come from one of them over its own veth. */
  ips: readonly string[];
  /** ifindex of the host-side veth. */
  ifindex: number;
  /** The pod's MAC. */
  mac: string;
  /** The host-side veth's MAC: the programs answer the pod's ARP requests with it. Absent: ARP goes to the
   *  node's stack (and same-node deliveries get an all-zero source MAC). */
  nodeMac?: string;
  identity: number;
  /** Default true: senders on this node deliver by tail call into cil_lxc_policy; false, through the veth. */
  tailCall?: boolean;
}

export interface EndpointProgramSet {
  /** tc ingress of the host-side veth (packets from the pod). */
  fromContainer: BpfProgram;
  /** tc egress of the host-side veth (packets into the pod). */
  toContainer: BpfProgram;
  /** cilium_call_policy's program (same-node delivery by tail call). */
  policy: BpfProgram;
}

const DEFAULT_TRACE_INTERVAL_NS = 5_000_000_000n;

/**
 * The node's one load of bpf_lxc. Every map is pinned by name under the pin root, so a restarted agent that
 * loads again with the same pin root finds the endpoints (cilium_lxc) and their policies (cilium_policy_maps)
 * still in force; the programs it finds attached use the same maps until it re-attaches its own.
 */
export class EndpointPrograms implements NodePolicyMaps {
  readonly programs: EndpointProgramSet;
  readonly policyMaps: BpfMap;
  readonly prefixLengths: BpfMap;
  /** Policy maps written by this instance, by endpoint id (for inspection; the kernel holds them anyway). */
  readonly #policies = new Map<number, BpfMap>();

  private constructor(
    readonly pinRoot: string,
    readonly constants: Readonly<NodeConstants>,
    private readonly object: BpfObject,
  ) {
    this.programs = {
      fromContainer: object.program('cil_from_container'),
      toContainer: object.program('cil_to_container'),
      policy: object.program('cil_lxc_policy'),
    };
    this.policyMaps = object.map('cilium_policy_maps');
    this.prefixLengths = object.map('cilium_pol_lens');
  }

  /** Loads (verifies) bpf_lxc once; its maps are pinned under, or reused from, `pinRoot`. */
  static load(pinRoot: string, constants: NodeConstants = {}): EndpointPrograms {
    const object = BpfObject.load(objectPath('bpf_lxc'), {
      pinRoot,
      constants: {
        ENABLE_TUNNEL: constants.tunnelIfindex ? 1 : 0,
        TUNNEL_IFINDEX: constants.tunnelIfindex ?? 0,
        TRACE_INTERVAL_NS: constants.traceIntervalNs ?? DEFAULT_TRACE_INTERVAL_NS,
        EVENTS_WAKEUP_BYTES: constants.eventsWakeupBytes ?? 0,
      },
    });
    return new EndpointPrograms(pinRoot, { ...constants }, object);
  }

  /** A node map of the object (cilium_lxc, cilium_ipcache, cilium_ct4_global, cilium_metrics, cilium_events, ...). */
  map(name: string): BpfMap {
    return this.object.map(name);
  }

  /**
   * Makes the endpoint known to the programs (upsert: call it again when its identity changes). With `rules`,
   * its policy is replaced first; without, an endpoint that has no policy yet gets an empty one (deny all), and
   * an existing policy stays. Attach the programs to its veth afterwards (attach()), so they never see it
   * half-registered.
   */
  registerEndpoint(ep: EndpointRegistration, rules?: readonly PolicyRuleEntry[]): void {
    const key = endpointIdKey(ep.id);
    if (rules !== undefined) this.writePolicy(ep.id, rules);
    else if (this.policyMaps.lookup(key) === undefined) this.writePolicy(ep.id, []);
    for (const ip of ep.ips) {
      upsertEndpoint(this.map('cilium_lxc'), ip, {
        ifindex: ep.ifindex, endpointId: ep.id, mac: ep.mac, nodeMac: ep.nodeMac ?? '00:00:00:00:00:00', identity: ep.identity,
      });
    }
    if (ep.tailCall ?? true) registerEndpointPolicy(this.map('cilium_call_policy'), ep.id, this.programs.policy);
    else unregisterEndpointPolicy(this.map('cilium_call_policy'), ep.id);
  }

  /**
   * Replaces the endpoint's policy with the entries for `rules`; returns their number. The endpoint's first
   * policy (also its first after a restart, and one that outgrows its map) is a new map swapped in whole
   * (replaceEndpointPolicy: atomic, but an RCU wait of milliseconds); later ones rewrite that map in place
   * (updateEndpointPolicy: microseconds per entry). Either way the prefix lengths are widened before and
   * narrowed after, so no lookup skips a live entry.
   */
  writePolicy(endpointId: number, rules: readonly PolicyRuleEntry[]): number {
    const current = this.#policies.get(endpointId);
    if (current) {
      const written = updateEndpointPolicy(this, endpointId, current, rules);
      if (written !== undefined) return written;
    }
    const { map, entries } = replaceEndpointPolicy(this, endpointId, rules);
    this.#policies.get(endpointId)?.close();
    this.#policies.set(endpointId, map);
    return entries;
  }

  /** The endpoint's policy map as last written by this instance (undefined for policies written before a
   *  restart until the next writePolicy). */
  policyMap(endpointId: number): BpfMap | undefined {
    return this.#policies.get(endpointId);
  }

  /** Endpoint ids with a policy in cilium_policy_maps, including those registered before a restart. */
  endpointIds(): number[] {
    return endpointsWithPolicy(this);
  }

  /** Puts the programs on the endpoint's host-side veth (tc ingress and egress). With `priority` and `handle`
   *  set, filters already there (e.g. from before a restart) are replaced. */
  attach(iface: string | number, opts: TcAttachOptions = {}): TcLink[] {
    const ingress = this.programs.fromContainer.attachTc(iface, 'ingress', opts);
    try {
      return [ingress, this.programs.toContainer.attachTc(iface, 'egress', opts)];
    } catch (err) {
      ingress.detach();
      throw err;
    }
  }

  /** Removes the endpoint from every map; detach its links first. */
  unregisterEndpoint(endpointId: number, ips: readonly string[]): void {
    unregisterEndpointPolicy(this.map('cilium_call_policy'), endpointId);
    for (const ip of ips) deleteEndpoint(this.map('cilium_lxc'), ip);
    deleteEndpointPolicy(this, endpointId);
    this.#policies.get(endpointId)?.close();
    this.#policies.delete(endpointId);
  }

  /** Closes this process's handles; pins, attachments and the maps' content stay. Idempotent. */
  close(): void {
    for (const m of this.#policies.values()) m.close();
    this.#policies.clear();
    this.object.close();
  }
}
