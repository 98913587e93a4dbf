import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';
export interface PodPort {
  port: number;
  protocol: PortProtocol;
}
export interface PodSpec {
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  ports: PodPort[];
}
/** What a lab is made of: nodes, Kubernetes-style namespaces with labels, and pods placed on nodes. */
export interface Topology {
  nodes: string[];
  namespaces: Record<string, { labels: Record<string, string> }>;
  pods: PodSpec[];
}

export class TopologyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid topology:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TopologyError';
  }
}

// DNS-1123 labels, as Kubernetes names namespaces and pods; short, because they become netns names.
const NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(|[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const PROTOCOLS: readonly PortProtocol[] = ['TCP', 'UDP', 'SCTP'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function labelsAt(path: string, v: unknown, problems: string[]): Record<string, string> {
  if (v === undefined) return {};
  if (!isRecord(v)) {
    problems.push(`${path}: must be a map of label keys to values`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    const value = typeof val === 'number' || typeof val === 'boolean' ? String(val) : val;
    if (!LABEL_KEY.test(k)) problems.push(`${path}.${k}: "${k}" is not a valid label key`);
    else if (typeof value !== 'string' || !LABEL_VALUE.test(value)) problems.push(`${path}.${k}: ${JSON.stringify(val)} is not a valid label value`);
    else out[k] = value;
  }
  return out;
}

/**
 * Checks a topology document and lists every problem with its path. Every namespace also gets the label
 * `kubernetes.io/metadata.name=<name>`, as Kubernetes sets it, so namespaceSelectors work the same.
 */
export function parseTopology(doc: unknown, source = 'topology'): Topology {
  const problems: string[] = [];
  if (!isRecord(doc)) throw new TopologyError(source, ['the document must be a map with nodes, namespaces and pods']);

  const nodes: string[] = [];
  if (!Array.isArray(doc.nodes) || doc.nodes.length === 0) problems.push('nodes: must be a non-empty list of node names');
  else
    doc.nodes.forEach((n: unknown, i: number) => {
      if (typeof n !== 'string' || !NAME.test(n)) problems.push(`nodes[${i}]: ${JSON.stringify(n)} is not a valid node name`);
      else if (nodes.includes(n)) problems.push(`nodes[${i}]: "${n}" is listed twice`);
      else nodes.push(n);
    });

  const namespaces: Topology['namespaces'] = {};
  if (!isRecord(doc.namespaces)) problems.push('namespaces: must be a map of namespace names to {labels}');
  else
    for (const [name, spec] of Object.entries(doc.namespaces)) {
      if (!NAME.test(name)) problems.push(`namespaces.${name}: "${name}" is not a valid namespace name`);
      const labels = labelsAt(`namespaces.${name}.labels`, isRecord(spec) ? spec.labels : undefined, problems);
      namespaces[name] = { labels: { ...labels, 'kubernetes.io/metadata.name': name } };
    }

  const pods: PodSpec[] = [];
  if (!Array.isArray(doc.pods)) problems.push('pods: must be a list');
  else
    doc.pods.forEach((p: unknown, i: number) => {
      const at = `pods[${i}]`;
      if (!isRecord(p)) return problems.push(`${at}: must be a map`);
      const { namespace, name, node } = p;
      if (typeof namespace !== 'string' || !(namespace in namespaces)) problems.push(`${at}.namespace: ${JSON.stringify(namespace)} is not one of the namespaces`);
      if (typeof name !== 'string' || !NAME.test(name)) problems.push(`${at}.name: ${JSON.stringify(name)} is not a valid pod name`);
      if (typeof node !== 'string' || !nodes.includes(node)) problems.push(`${at}.node: ${JSON.stringify(node)} is not one of the nodes`);
      if (pods.some((q) => q.namespace === namespace && q.name === name)) problems.push(`${at}: pod ${namespace}/${name} is listed twice`);
      const ports: PodPort[] = [];
      if (p.ports !== undefined && !Array.isArray(p.ports)) problems.push(`${at}.ports: must be a list`);
      for (const [j, port] of (Array.isArray(p.ports) ? p.ports : []).entries()) {
        const pat = `${at}.ports[${j}]`;
        const num = isRecord(port) ? port.port : undefined;
        const proto = isRecord(port) ? (port.protocol ?? 'TCP') : undefined;
        if (!Number.isInteger(num) || (num as number) < 1 || (num as number) > 65535) problems.push(`${pat}.port: ${JSON.stringify(num)} is not a port number (1-65535)`);
        else if (typeof proto !== 'string' || !PROTOCOLS.includes(proto as PortProtocol)) problems.push(`${pat}.protocol: ${JSON.stringify(proto)} is not TCP, UDP or SCTP`);
        else ports.push({ port: num as number, protocol: proto as PortProtocol });
      }
      pods.push({ namespace: String(namespace), name: String(name), node: String(node), labels: labelsAt(`${at}.labels`, p.labels, problems), ports });
    });

  if (problems.length > 0) throw new TopologyError(source, problems);
  return { nodes, namespaces, pods };
}

export function loadTopology(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read topology: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TopologyError(path, [`not valid YAML: ${(err as Error).message}`]);
  }
  return parseTopology(doc, path);
}
