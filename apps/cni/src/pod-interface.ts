import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { CniError, CniErrorCode } from './cni-error.js';
import { ip, ipBatch, linkInfo, type NetnsRef } from '@cilium-ts/iproute';

const execFileP = promisify(execFile);

/** What ADD makes: a veth pair with one end in the pod, addressed and routed through the node. */
export interface PodInterfaceSpec {
  /** The namespace the host side lives in; the current one (the node's) when absent. */
  host: NetnsRef;
  podNetns: string;
  ifName: string;
  containerId: string;
  /** Addresses with prefix length, e.g. 10.244.1.23/32. */
  addresses: string[];
  /** The node's router address for the pod (on the node), reached through the host-side veth. */
  gateway: string;
  mtu: number;
}

export interface PodInterface {
  hostIfName: string;
  hostIfindex: number;
  hostMac: string;
  podIfindex: number;
  podMac: string;
}

/** A sysctl of a network namespace; in the current one, written straight to /proc/sys (no process). */
async function sysctlIn(netnsPath: string | undefined, key: string, value: string): Promise<void> {
  if (!netnsPath) return writeFile(`/proc/sys/${key.replaceAll('.', '/')}`, value);
  await execFileP('nsenter', [`--net=${netnsPath}`, 'sysctl', '-q', '-w', `${key}=${value}`]);
}

/** Host-side names as upstream forms them: `lxc` and a hash of the container, so retries find the same name. */
export function hostIfNameFor(containerId: string, ifName: string): string {
  return `lxc${createHash('sha256').update(`${containerId}/${ifName}`).digest('hex').slice(0, 12)}`;
}

/**
 * Creates the pod's interface, or leaves nothing behind: each step registers its undo, and a failure
 * runs the undos in reverse before reporting which step failed.
 */
export async function createPodInterface(spec: PodInterfaceSpec): Promise<PodInterface> {
  if (!existsSync(spec.podNetns)) {
    throw new CniError(CniErrorCode.UnknownContainer, 'network namespace does not exist', spec.podNetns);
  }
  const pod: NetnsRef = { path: spec.podNetns };
  if (await linkInfo(pod, spec.ifName)) {
    throw new CniError(CniErrorCode.SetupFailed, 'interface already exists in the pod', `${spec.ifName} in ${spec.podNetns}`);
  }
  const hostIfName = hostIfNameFor(spec.containerId, spec.ifName);
  const tmpPeer = `tmp${randomBytes(5).toString('hex')}`;
  const ipv4Only = !spec.addresses.some((a) => a.includes(':'));
  const undo: Array<() => Promise<unknown>> = [];
  let step = 'create veth';
  // Each step is one `ip -batch` per namespace: process starts are most of what ADD costs.
  try {
    await ipBatch(spec.host, [
      ['link', 'add', hostIfName, 'mtu', String(spec.mtu), 'type', 'veth', 'peer', 'name', tmpPeer, 'mtu', String(spec.mtu)],
      ['link', 'set', tmpPeer, 'netns', spec.podNetns],
    ]);
    // Deleting the host side deletes its peer too, wherever the peer has moved.
    undo.push(() => ip(spec.host, ['link', 'del', hostIfName]));
    step = 'name the pod interface';
    await ipBatch(pod, [['link', 'set', tmpPeer, 'name', spec.ifName]]);
    if (ipv4Only) {
      step = 'turn IPv6 off';
      // IPv4-only: before the links come up, or both ends would announce themselves over IPv6 (router and
      // MLD solicitations), traffic no policy allows, and every announcement would show up as a drop.
      await sysctlIn(spec.host.path, `net.ipv6.conf.${hostIfName}.disable_ipv6`, '1');
      await sysctlIn(spec.podNetns, `net.ipv6.conf.${spec.ifName}.disable_ipv6`, '1');
    }
    step = 'bring interfaces up';
    await ipBatch(spec.host, [['link', 'set', hostIfName, 'up']]);
    step = 'address the pod';
    await ipBatch(pod, [
      ['link', 'set', spec.ifName, 'up'],
      ['link', 'set', 'lo', 'up'],
      ...spec.addresses.map((a) => ['addr', 'add', a, 'dev', spec.ifName]),
    ]);
    const host = (await linkInfo(spec.host, hostIfName))!;
    step = 'route the pod through the node';
    // The gateway is not on the pod's subnet (it has a /32): a link route to it, then the default
    // route, and a permanent neighbour entry so the pod never needs ARP answered by the node.
    await ipBatch(pod, [
      ['route', 'add', spec.gateway, 'dev', spec.ifName, 'scope', 'link'],
      ['route', 'add', 'default', 'via', spec.gateway, 'dev', spec.ifName, 'mtu', String(spec.mtu)],
      ['neigh', 'replace', spec.gateway, 'lladdr', host.address, 'dev', spec.ifName, 'nud', 'permanent'],
    ]);
    const podLink = (await linkInfo(pod, spec.ifName))!;
    return { hostIfName, hostIfindex: host.ifindex, hostMac: host.address, podIfindex: podLink.ifindex, podMac: podLink.address };
  } catch (err) {
    for (const u of undo.reverse()) await u().catch(() => undefined);
    if (err instanceof CniError) throw err;
    throw new CniError(CniErrorCode.SetupFailed, `failed to ${step}`, (err as Error).message);
  }
}

/** Removes the pod's interface; absent is fine (DEL is idempotent). */
export async function deletePodInterface(host: NetnsRef, containerId: string, ifName: string): Promise<boolean> {
  const name = hostIfNameFor(containerId, ifName);
  if (!(await linkInfo(host, name))) return false;
  await ip(host, ['link', 'del', name]);
  return true;
}
