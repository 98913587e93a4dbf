import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabPaths } from './lab-paths.js';
import type { PodPort, Topology } from './topology.js';

export interface LabNodeState {
  name: string;
  netns: string;
  underlayIp: string;
  podCidr: string;
  socket: string;
  agentPid: number;
}

export interface LabPodState {
  namespace: string;
  name: string;
  node: string;
  netns: string;
  containerId: string;
  ip: string;
  labels: Record<string, string>;
  ports: PodPort[];
  control: string;
  agentPid: number;
}

/** What `up` made, so every other command can find it. */
export interface LabState {
  routing: 'vxlan' | 'native';
  topology: Topology;
  etcdPid: number;
  /** hubble-relay, on the host's loopback only (the one port the lab forwards to the host). */
  relay?: { pid: number; address: string };
  nodes: LabNodeState[];
  pods: LabPodState[];
}

export function readState(paths: LabPaths): LabState | undefined {
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function writeState(paths: LabPaths, state: LabState): void {
  mkdirSync(dirname(paths.stateFile), { recursive: true });
  writeFileSync(`${paths.stateFile}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${paths.stateFile}.tmp`, paths.stateFile);
}

export function requireState(paths: LabPaths): LabState {
  const state = readState(paths);
  if (!state) throw new Error('the lab is not up: run `cilium-lab up` first');
  return state;
}

export function findPod(state: LabState, ref: string): LabPodState {
  const [namespace, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  const pod = state.pods.find((p) => p.namespace === namespace && p.name === name);
  if (!pod) throw new Error(`no pod ${namespace}/${name} in the lab (pods: ${state.pods.map((p) => `${p.namespace}/${p.name}`).join(', ')})`);
  return pod;
}

export function findNode(state: LabState, name: string): LabNodeState {
  const node = state.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name} in the lab (nodes: ${state.nodes.map((n) => n.name).join(', ')})`);
  return node;
}
