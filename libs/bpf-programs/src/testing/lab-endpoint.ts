// Wires the real programs into a NetnsLab node the way the agent will: register, then attach.
import type { TcLink } from '@cilium-ts/datapath-native';
import type { TestDatapath, TestEndpoint } from './datapath-harness.js';
import type { NetnsLab } from './netns-lab.js';

export interface LabPod {
  ns: string;
  /** The host-side veth in the node namespace. */
  hostDev: string;
  ip: string;
  identity: number;
  endpoint: TestEndpoint;
}

export function attachEndpoint(
  lab: NetnsLab, dp: TestDatapath, links: TcLink[], node: string,
  opts: { role: string; ip: string; id: number; identity: number; tunnelIfindex?: number },
): LabPod {
  const pod = lab.pod(node, opts.role, opts.ip);
  const endpoint = dp.endpoint({
    id: opts.id, identity: opts.identity, ips: [opts.ip], ifindex: pod.ifindex, mac: pod.mac, nodeMac: pod.nodeMac,
    ...(opts.tunnelIfindex === undefined ? {} : { tunnelIfindex: opts.tunnelIfindex }),
  });
  links.push(...endpoint.programs.attach(pod.hostDev, { netns: lab.path(node) }));
  return { ns: pod.ns, hostDev: pod.hostDev, ip: opts.ip, identity: opts.identity, endpoint };
}
