import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentClient, type StatusResponse } from '@cilium-ts/agent-api';
import { isAlive, startDaemon, waitFor } from './daemon.js';
import { labPaths, podCidrOf, type LabPaths } from './lab-paths.js';
import { createNode, createSwitch, destroyLab, etcdEndpoint, startEtcd } from './lab-network.js';
import { readState, writeState, type LabNodeState, type LabPodState, type LabState } from './lab-state.js';
import { Netns } from './netns.js';
import { podSourceDir, writeNamespaceLabels, writePodLabels } from './pod-source.js';
import type { PodSpec, Topology } from './topology.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The other programs of the repository, driven through their executables as a user would. */
export const BIN = {
  agent: join(here, '..', '..', 'agent', 'bin', 'cilium-agent.js'),
  relay: join(here, '..', '..', 'hubble-relay', 'bin', 'hubble-relay.js'),
  hubble: join(here, '..', '..', 'cli', 'bin', 'hubble.js'),
  cni: join(here, '..', '..', 'cni', 'bin', 'cilium-cni.js'),
  cilium: join(here, '..', '..', 'cli', 'bin', 'cilium.js'),
  podAgent: join(here, 'pod-agent-main.js'),
};

export interface UpOptions {
  topology: Topology;
  routing: 'vxlan' | 'native';
  policies?: string[];
  paths?: LabPaths;
  log?: (line: string) => void;
}

/** The agent of a node runs in the node's namespace, entered with nsenter so bpffs stays visible. */
function startAgent(paths: LabPaths, node: { name: string; netns: string; underlayIp: string }, podCidr: string, routing: string): LabNodeState {
  const dir = join(paths.runDir, 'nodes', node.name);
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'cilium.sock');
  const pid = startDaemon(
    node.netns,
    [
      process.execPath, BIN.agent,
      '--node-name', node.name,
      '--node-ip', node.underlayIp,
      '--pod-cidr', podCidr,
      '--routing-mode', routing,
      '--socket-path', socket,
      '--state-dir', join(dir, 'state'),
      '--bpf-root', join(paths.bpfRoot, node.name),
      '--kvstore-endpoints', etcdEndpoint(),
      '--pod-source-dir', podSourceDir(paths),
      '--hubble-socket-path', join(dir, 'hubble.sock'),
      '--hubble-port', '0',
      // The relay runs on the host and reaches the nodes' Hubble servers through their sockets.
      '--hubble-peer-address', `unix://${join(dir, 'hubble.sock')}`,
      '--metrics-address', '',
    ],
    join(paths.runDir, 'logs', `agent-${node.name}.log`),
    'nsenter',
  );
  return { ...node, podCidr, socket, agentPid: pid };
}

async function agentReady(node: LabNodeState): Promise<boolean> {
  if (!existsSync(node.socket)) return false;
  const status = await new AgentClient(node.socket, 2000).get<StatusResponse>('/v1/healthz');
  return status.cilium.state === 'Ok';
}

interface CniResult {
  ips?: Array<{ address: string }>;
  code?: number;
  msg?: string;
  details?: string;
}

/** ADD, exactly as a container runtime calls it: in the node's namespace, config on stdin, result on stdout. */
export function runCni(command: 'ADD' | 'DEL', node: LabNodeState, pod: { namespace: string; name: string; netns: string; containerId: string }): Promise<CniResult> {
  const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'cilium', type: 'cilium-cni', 'agent-socket': node.socket });
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/var/run/netns/${node.netns}`, process.execPath, BIN.cni], {
      env: {
        PATH: process.env.PATH,
        CNI_COMMAND: command,
        CNI_CONTAINERID: pod.containerId,
        CNI_NETNS: `/var/run/netns/${pod.netns}`,
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/opt/cni/bin',
        CNI_ARGS: `K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name}`,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        const result = (out ? JSON.parse(out) : {}) as CniResult;
        if (code === 0) resolve(result);
        else reject(new Error(`cilium-cni ${command} for ${pod.namespace}/${pod.name} failed (code ${result.code}): ${result.msg}${result.details ? `: ${result.details}` : ''}${err ? `\n${err}` : ''}`));
      } catch {
        reject(new Error(`cilium-cni ${command} for ${pod.namespace}/${pod.name}: exit ${code}, unreadable output: ${out}${err}`));
      }
    });
    child.stdin.end(conf);
  });
}

async function addPod(paths: LabPaths, node: LabNodeState, spec: PodSpec): Promise<LabPodState> {
  const netns = `${paths.netnsPrefix}pod-${spec.namespace}-${spec.name}`;
  await Netns.create(netns);
  const containerId = `lab-${spec.namespace}-${spec.name}`;
  const result = await runCni('ADD', node, { namespace: spec.namespace, name: spec.name, netns, containerId });
  const ip = result.ips?.[0]?.address.split('/')[0];
  if (!ip) throw new Error(`cilium-cni gave ${spec.namespace}/${spec.name} no address`);
  const control = join(paths.runDir, 'pods', `${spec.namespace}_${spec.name}.sock`);
  mkdirSync(join(paths.runDir, 'pods'), { recursive: true });
  const agentPid = startDaemon(
    netns,
    [process.execPath, BIN.podAgent, control, ...spec.ports.map((p) => `${p.port}/${p.protocol}`)],
    join(paths.runDir, 'logs', `pod-${spec.namespace}-${spec.name}.log`),
  );
  await waitFor(`the server of pod ${spec.namespace}/${spec.name}`, async () => existsSync(control), 10_000);
  return { namespace: spec.namespace, name: spec.name, node: spec.node, netns, containerId, ip, labels: spec.labels, ports: spec.ports, control, agentPid };
}

/** Imports policy documents into every agent of the lab, as the API server would hand them to every node. */
export async function applyPolicies(state: LabState, text: string, source: string): Promise<number> {
  let revision = 0;
  for (const node of state.nodes) {
    try {
      const r = await new AgentClient(node.socket, 30_000).request<{ revision: number }>('PUT', '/v1/policy', text, 'application/yaml');
      revision = r.revision;
    } catch (err) {
      throw new Error(`${source}: node ${node.name} refused the policy: ${(err as Error).message}`);
    }
  }
  return revision;
}

export function labIsUp(state: LabState | undefined): state is LabState {
  return (
    !!state &&
    isAlive(state.etcdPid) &&
    !!state.relay &&
    isAlive(state.relay.pid) &&
    state.nodes.every((n) => isAlive(n.agentPid)) &&
    state.pods.every((p) => isAlive(p.agentPid))
  );
}

/** The relay's port on the host's loopback: 4245 as upstream, or CILIUM_LAB_RELAY_PORT for a second lab. */
export function relayAddress(): string {
  return `127.0.0.1:${process.env.CILIUM_LAB_RELAY_PORT || '4245'}`;
}

/** hubble-relay on the host, finding every node through the first node's Peer service. */
async function startRelay(paths: LabPaths, state: LabState): Promise<void> {
  const address = relayAddress();
  const [host, port] = address.split(':');
  const firstNode = join(paths.runDir, 'nodes', state.nodes[0]!.name, 'hubble.sock');
  const child = spawn(process.execPath, [BIN.relay, '--listen-address', address, '--peer-service', `unix://${firstNode}`], {
    detached: true,
    stdio: ['ignore', openSync(join(paths.runDir, 'logs', 'hubble-relay.log'), 'a'), openSync(join(paths.runDir, 'logs', 'hubble-relay.log'), 'a')],
  });
  child.unref();
  state.relay = { pid: child.pid!, address };
  await waitFor('hubble-relay', () => portOpen(host!, Number(port)), 15_000, `see ${paths.runDir}/logs/hubble-relay.log`);
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * When only agents are gone (killed, crashed), starts them again on their state: their datapath kept
 * enforcing in the kernel meanwhile, and they restore their endpoints. Returns false when more is missing.
 */
async function restartAgents(paths: LabPaths, state: LabState, log: (line: string) => void): Promise<boolean> {
  if (!isAlive(state.etcdPid) || !state.pods.every((p) => isAlive(p.agentPid))) return false;
  if (!state.relay || !isAlive(state.relay.pid)) {
    await startRelay(paths, state);
    log('restarted hubble-relay');
  }
  const dead = state.nodes.filter((n) => !isAlive(n.agentPid));
  for (const n of dead) {
    const restarted = startAgent(paths, n, n.podCidr, state.routing);
    n.agentPid = restarted.agentPid;
    log(`restarted the agent of ${n.name}`);
  }
  writeState(paths, state);
  await Promise.all(dead.map((a) => waitFor(`the agent of ${a.name}`, () => agentReady(a), 30_000, `see ${paths.runDir}/logs/agent-${a.name}.log`)));
  return true;
}

/**
 * Builds the lab: the underlay and its etcd, a namespace and an agent per node, pods attached through
 * cilium-cni, a server in every pod, then the policies. Safe to run twice; a half-made lab is removed first.
 */
export async function labUp(opts: UpOptions): Promise<LabState> {
  const paths = opts.paths ?? labPaths();
  const log = opts.log ?? (() => undefined);
  const existing = readState(paths);
  if (labIsUp(existing)) {
    log('the lab is already up');
    return existing;
  }
  if (existing && (await restartAgents(paths, existing, log))) return existing;
  await destroyLab(paths);
  const t0 = Date.now();
  const step = (msg: string) => log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
  try {
    const sw = await createSwitch(paths);
    const nodes = [];
    for (const [i, name] of opts.topology.nodes.entries()) nodes.push(await createNode(paths, sw, name, i));
    step(`underlay and ${nodes.length} node namespaces`);
    const etcdPid = await startEtcd(paths, sw);
    step(`etcd at ${etcdEndpoint()}`);

    for (const [ns, { labels }] of Object.entries(opts.topology.namespaces)) writeNamespaceLabels(paths, ns, labels);
    for (const p of opts.topology.pods) writePodLabels(paths, p.namespace, p.name, p.labels);

    const agents = nodes.map((n, i) => startAgent(paths, n, podCidrOf(i), opts.routing));
    const state: LabState = { routing: opts.routing, topology: opts.topology, etcdPid, nodes: agents, pods: [] };
    writeState(paths, state);
    await Promise.all(
      agents.map((a) => waitFor(`the agent of ${a.name}`, () => agentReady(a), 30_000, `see ${paths.runDir}/logs/agent-${a.name}.log`)),
    );
    step(`agents ready on ${agents.map((a) => a.name).join(', ')} (${opts.routing} routing)`);
    await startRelay(paths, state);
    writeState(paths, state);
    step(`hubble-relay on ${state.relay!.address}`);

    for (const text of opts.policies ?? []) await applyPolicies(state, readFileSync(text, 'utf8'), text);
    if (opts.policies?.length) step(`policies applied: ${opts.policies.join(', ')}`);

    const byNode = new Map(agents.map((a) => [a.name, a]));
    state.pods = await Promise.all(opts.topology.pods.map((p) => addPod(paths, byNode.get(p.node)!, p)));
    writeState(paths, state);
    step(`${state.pods.length} pods attached by cilium-cni and serving`);
    return state;
  } catch (err) {
    log(`bring-up failed: ${(err as Error).message}; logs in ${paths.runDir}/logs (removed by cilium-lab down)`);
    throw err;
  }
}
