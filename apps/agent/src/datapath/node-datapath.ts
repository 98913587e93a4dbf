import { mkdirSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const NAMED_NETNS_DIR = '/var/run/netns';
import { writeFile } from 'node:fs/promises';
import { BpfObject, type BpfMap, type TcLink } from '@cilium-ts/datapath-native';
import { deleteIpcache, objectPath, upsertIpcache, type IpcacheValue } from '@cilium-ts/bpf-programs';
import { ip, ipJson, linkInfo } from '@cilium-ts/iproute';
import type { AgentConfig } from '../config.js';

/** Upstream's names and port: the overlay device and the Linux VXLAN port Cilium uses. */
export const VXLAN_DEVICE = 'cilium_vxlan';
export const VXLAN_PORT = 8472;
/** A fixed tc priority and handle, so re-attaching after a restart replaces the filter in one step. */
export const TC_SLOT = { priority: 1, handle: 1 } as const;

const REMOTE_NODE_IDENTITY = 6;
const HOST_IDENTITY = 1;

export interface RemoteNode {
  name: string;
  /** Underlay address. */
  ip: string;
  podCidr?: string;
}

const BPF_FS_MAGIC = 0xcafe4a11;

/** Pins only work on bpffs; `ip netns exec` remounts /sys and hides it, which otherwise fails obscurely. */
function requireBpffs(pinRoot: string): void {
  let dir = pinRoot;
  while (dir !== '/') {
    try {
      if (statfsSync(dir).type === BPF_FS_MAGIC) return;
      break;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error(
    `${pinRoot} is not on a BPF filesystem: mount bpffs (mount -t bpf bpf /sys/fs/bpf), and start an agent in a network namespace with nsenter --net=..., not ip netns exec, which hides /sys/fs/bpf`,
  );
}

/**
 * The datapath reshapes the namespace it runs in (devices, sysctls, programs). On a node that is the point;
 * on a developer's machine it would rewire the machine itself. So it runs unasked only in a named namespace
 * (`ip netns add`, as the lab and the tests make them), and elsewhere only with an explicit yes.
 */
function requireNodeNamespace(allowHost: boolean): void {
  if (allowHost) return;
  const self = statSync('/proc/self/ns/net').ino;
  let named: string[] = [];
  try {
    named = readdirSync(NAMED_NETNS_DIR);
  } catch {
    // no named namespaces at all
  }
  if (named.some((n) => statSync(join(NAMED_NETNS_DIR, n), { throwIfNoEntry: false })?.ino === self)) return;
  throw new Error(
    'refusing to set up the datapath in a network namespace that is not a named node namespace (this may be the machine itself); run the agent in a node namespace (nsenter --net=/var/run/netns/NODE), or pass --allow-host-netns on a real node',
  );
}

async function sysctl(key: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/${key.replaceAll('.', '/')}`, value);
}

/**
 * The node-wide datapath in the agent's network namespace: pinned shared maps, the overlay device and
 * its programs (or the host program in native routing), and what is known about other nodes.
 */
export class NodeDatapath {
  private readonly objects: BpfObject[] = [];
  private readonly links: TcLink[] = [];
  private remoteNodes = new Map<string, RemoteNode>();
  tunnelIfindex: number | undefined;

  private constructor(readonly config: AgentConfig) {}

  static async start(config: AgentConfig): Promise<NodeDatapath> {
    const dp = new NodeDatapath(config);
    try {
      requireNodeNamespace(config.allowHostNetns);
      requireBpffs(config.bpfRoot);
      mkdirSync(config.bpfRoot, { recursive: true });
      // A node forwards between its pods, the overlay and other nodes; the programs choose the paths, so
      // reverse-path filtering must not second-guess them.
      await sysctl('net.ipv4.ip_forward', '1');
      for (const scope of ['all', 'default']) await sysctl(`net.ipv4.conf.${scope}.rp_filter`, '0');
      if (config.routingMode === 'vxlan') await dp.startOverlay();
      else await dp.startNativeRouting();
      if (config.nodeIP) upsertIpcache(dp.map('cilium_ipcache'), `${config.nodeIP}/32`, { identity: HOST_IDENTITY });
      return dp;
    } catch (err) {
      dp.close();
      throw err;
    }
  }

  private load(name: 'bpf_overlay' | 'bpf_host'): BpfObject {
    const obj = BpfObject.load(objectPath(name), { pinRoot: this.config.bpfRoot });
    this.objects.push(obj);
    return obj;
  }

  private async startOverlay(): Promise<void> {
    if (!(await linkInfo({}, VXLAN_DEVICE))) {
      await ip({}, ['link', 'add', VXLAN_DEVICE, 'type', 'vxlan', 'external', 'dstport', String(VXLAN_PORT)]);
    }
    // The cluster is IPv4-only: without this the device's own IPv6 announcements would be dropped as
    // traffic without a tunnel endpoint, over and over.
    if (!this.config.podCIDRv6) await sysctl(`net.ipv6.conf.${VXLAN_DEVICE}.disable_ipv6`, '1');
    await ip({}, ['link', 'set', VXLAN_DEVICE, 'up']);
    this.tunnelIfindex = (await linkInfo({}, VXLAN_DEVICE))!.ifindex;
    const overlay = this.load('bpf_overlay');
    this.links.push(overlay.program('cil_to_overlay').attachTc(VXLAN_DEVICE, 'egress', TC_SLOT));
    this.links.push(overlay.program('cil_from_overlay').attachTc(VXLAN_DEVICE, 'ingress', TC_SLOT));
  }

  private async startNativeRouting(): Promise<void> {
    const device = await this.underlayDevice();
    const host = this.load('bpf_host');
    this.links.push(host.program('cil_from_netdev').attachTc(device, 'ingress', TC_SLOT));
  }

  /** The device that holds the node's underlay address. */
  private async underlayDevice(): Promise<string> {
    if (!this.config.nodeIP) throw new Error('native routing needs --node-ip: the address other nodes route pod traffic to');
    const addrs = await ipJson<Array<{ ifname: string; addr_info: Array<{ local: string }> }>>({}, ['addr', 'show']);
    const dev = addrs.find((a) => a.addr_info.some((i) => i.local === this.config.nodeIP));
    if (!dev) throw new Error(`native routing: no device in this namespace has the node IP ${this.config.nodeIP}`);
    return dev.ifname;
  }

  /** A shared map, pinned under the agent's pin root (every datapath object has it). */
  map(name: string): BpfMap {
    const obj = this.objects.find((o) => o.maps.has(name));
    if (!obj) throw new Error(`datapath: no loaded object has the map ${name}`);
    return obj.map(name);
  }

  upsertIpcache(prefix: string, value: IpcacheValue): void {
    upsertIpcache(this.map('cilium_ipcache'), prefix, value);
  }

  deleteIpcache(prefix: string): void {
    deleteIpcache(this.map('cilium_ipcache'), prefix);
  }

  /**
   * Other nodes as the kvstore announces them: their underlay addresses are remote-node identities, and in
   * native routing their pod CIDRs are routed through them (the overlay needs no routes: the endpoint
   * program sends remote pod traffic to the tunnel device itself).
   */
  async setRemoteNodes(nodes: readonly RemoteNode[]): Promise<void> {
    const next = new Map(nodes.filter((n) => n.name !== this.config.nodeName).map((n) => [n.name, n]));
    for (const [name, old] of this.remoteNodes) {
      const now = next.get(name);
      if (now && now.ip === old.ip && now.podCidr === old.podCidr) continue;
      this.deleteIpcache(`${old.ip}/32`);
      if (this.config.routingMode === 'native' && old.podCidr) await ip({}, ['route', 'del', old.podCidr]).catch(() => undefined);
    }
    for (const n of next.values()) {
      this.upsertIpcache(`${n.ip}/32`, { identity: REMOTE_NODE_IDENTITY });
      if (this.config.routingMode === 'native' && n.podCidr) await ip({}, ['route', 'replace', n.podCidr, 'via', n.ip]);
    }
    this.remoteNodes = next;
  }

  /** Closes our handles; the programs stay attached and the maps pinned, so traffic flows while we are away. */
  close(): void {
    for (const o of this.objects) o.close();
    this.objects.length = 0;
  }
}
