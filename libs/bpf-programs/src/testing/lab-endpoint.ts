// Wires the real programs into a NetnsLab node the way the agent will.
import type { BpfObject, TcLink } from '@cilium-ts/datapath-native';
import { upsertEndpoint } from '../map-writers.js';
import type { TestDatapath } from './datapath-harness.js';
import type { NetnsLab } from './netns-lab.js';

export interface LabPod {
  ns: string;
  /** The host-side veth in the node namespace. */
  hostDev: string;
  ip: string;
  identity: number;
  program: BpfObject;
}

export function attachEndpoint(
  lab: NetnsLab, dp: TestDatapath, links: TcLink[], node: string,
  opts: { role: string; ip: string; id: number; identity: number; tunnelIfindex?: number },
): LabPod {
  const pod = lab.pod(node, opts.role, opts.ip);
  const program = dp.endpoint({
    id: opts.id, identity: opts.identity, ifindex: pod.ifindex, nodeMac: pod.nodeMac,
    ...(opts.tunnelIfindex === undefined ? {} : { tunnelIfindex: opts.tunnelIfindex }),
  });
  const netns = lab.path(node);
  links.push(program.program('cil_from_container').attachTc(pod.hostDev, 'ingress', { netns }));
  links.push(program.program('cil_to_container').attachTc(pod.hostDev, 'egress', { netns }));
  upsertEndpoint(dp.map('cilium_lxc'), opts.ip, {
    ifindex: pod.ifindex, endpointId: opts.id, mac: pod.mac, nodeMac: pod.nodeMac, identity: opts.identity,
  });
  return { ns: pod.ns, hostDev: pod.hostDev, ip: opts.ip, identity: opts.identity, program };
}
