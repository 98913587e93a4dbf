import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { Netns, sh } from './netns.js';
import { UNDERLAY, type LabPaths } from './lab-paths.js';
import { isAlive, startDaemon, stopProcess, waitFor } from './daemon.js';
import { readState } from './lab-state.js';

export interface LabNode {
  name: string;
  netns: string;
  underlayIp: string;
}

/**
 * The switch: one namespace holding the underlay bridge that joins the nodes, and the lab's etcd.
 * Nothing in it is routed anywhere: its addresses exist only inside the lab's namespaces.
 */
export async function createSwitch(paths: LabPaths): Promise<Netns> {
  const sw = await Netns.create(`${paths.netnsPrefix}switch`);
  await sw.ip('link', 'add', 'br0', 'type', 'bridge');
  await sw.ip('addr', 'add', `${UNDERLAY.switchAddress}/${UNDERLAY.prefixLength}`, 'dev', 'br0');
  await sw.ip('link', 'set', 'br0', 'up');
  return sw;
}

/** A node: a namespace with eth0 on the underlay bridge. Its agent adds the overlay or the routes. */
export async function createNode(paths: LabPaths, sw: Netns, name: string, index: number): Promise<LabNode> {
  const ns = await Netns.create(`${paths.netnsPrefix}${name}`);
  const port = `veth-${name}`.slice(0, 15);
  await sh('ip', ['link', 'add', 'eth0', 'netns', ns.name, 'type', 'veth', 'peer', 'name', port, 'netns', sw.name]);
  await sw.ip('link', 'set', port, 'master', 'br0');
  await sw.ip('link', 'set', port, 'up');
  const underlayIp = UNDERLAY.nodeAddress(index);
  await ns.ip('addr', 'add', `${underlayIp}/${UNDERLAY.prefixLength}`, 'dev', 'eth0');
  await ns.ip('link', 'set', 'eth0', 'up');
  // Nodes forward between pods, the overlay and each other.
  await ns.exec('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  return { name, netns: ns.name, underlayIp };
}

export function etcdEndpoint(): string {
  return `http://${UNDERLAY.switchAddress}:${UNDERLAY.etcdClientPort}`;
}

/** The lab's etcd: Debian's etcd server in the switch namespace, data under the lab's run directory. */
export async function startEtcd(paths: LabPaths, sw: Netns): Promise<number> {
  const dataDir = `${paths.runDir}/etcd`;
  mkdirSync(dataDir, { recursive: true });
  const url = etcdEndpoint();
  const peer = `http://${UNDERLAY.switchAddress}:${UNDERLAY.etcdPeerPort}`;
  const pid = startDaemon(
    sw.name,
    [
      'etcd',
      '--name', 'lab',
      '--data-dir', dataDir,
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `lab=${peer}`,
      '--log-level', 'warn',
    ],
    `${paths.runDir}/logs/etcd.log`,
  );
  await waitFor(
    'etcd to answer',
    async () => {
      await sw.exec('etcdctl', ['--endpoints', url, '--dial-timeout', '1s', 'endpoint', 'health']);
      return true;
    },
    15_000,
    `see ${paths.runDir}/logs/etcd.log`,
  );
  return pid;
}

/** A pid is only the relay's while its command line says so (pids are reused). */
function isRelay(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('hubble-relay');
  } catch {
    return false;
  }
}

/** Every namespace of the lab, found by name, so a half-made lab can be removed without a state file. */
export async function labNamespaces(paths: LabPaths): Promise<string[]> {
  const out = await sh('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(paths.netnsPrefix));
}

/**
 * Removes everything the lab made: processes in its namespaces (agents, pod servers, etcd), the
 * namespaces with their interfaces, BPF pins and the run directory. Safe to run on any state.
 */
export async function destroyLab(paths: LabPaths, log: (line: string) => void = () => undefined): Promise<void> {
  const namespaces = await labNamespaces(paths);
  const pids = new Set<number>();
  // The relay is the one process on the host side; the state file says which it is.
  const relayPid = readState(paths)?.relay?.pid;
  if (relayPid && isAlive(relayPid) && isRelay(relayPid)) pids.add(relayPid);
  for (const ns of namespaces) {
    const out = await sh('ip', ['netns', 'pids', ns]).catch(() => '');
    for (const p of out.split('\n').filter(Boolean)) pids.add(Number(p));
  }
  if (pids.size > 0) log(`stopping ${pids.size} processes`);
  await Promise.all([...pids].map((p) => stopProcess(p)));
  for (const ns of namespaces) await sh('ip', ['netns', 'delete', ns]).catch(() => undefined);
  if (namespaces.length > 0) log(`removed ${namespaces.length} namespaces`);
  if (existsSync(paths.bpfRoot)) rmSync(paths.bpfRoot, { recursive: true, force: true });
  rmSync(paths.runDir, { recursive: true, force: true });
}
