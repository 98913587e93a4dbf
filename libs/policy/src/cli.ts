// The offline `cilium policy validate` and `cilium policy explain` commands as library functions; the CLI
// only parses flags and prints `output`.
import { readFile } from 'node:fs/promises';
import type { Label } from '@cilium-ts/labels';
import { cidrLabel, labelsFromK8sPod, LabelSource, parseLabels } from '@cilium-ts/labels';
import { parsePolicies } from './parse/documents.js';
import { formatIssue } from './parse/issues.js';
import { parsePrefix } from './cidr.js';
import { PolicyEngine } from './policy-engine.js';
import type { Explanation } from './explain.js';
import { explain, formatExplanation, protocolNumber } from './explain.js';

export interface CommandResult {
  readonly output: string;
  readonly exitCode: number;
}

function describeDoc(d: { kind?: string; namespace?: string; name?: string }): string {
  const name = d.name === undefined ? '(unnamed)' : d.namespace !== undefined ? `${d.namespace}/${d.name}` : d.name;
  return `${d.kind ?? '(no kind)'} ${name}`;
}

/**
 * `cilium policy validate FILE...`: one line per valid document (`valid`), one line per error with its
 * path; exit code 1 when any document is invalid or a file cannot be read.
 */
export async function validateFiles(paths: readonly string[]): Promise<CommandResult> {
  const lines: string[] = [];
  let failed = false;
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      lines.push(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      failed = true;
      continue;
    }
    const result = parsePolicies(text);
    if (result.documents.length === 0) {
      lines.push(`${path}: no policy documents`);
      failed = true;
    }
    for (const d of result.documents) {
      const where = `${path}#${d.index} ${describeDoc(d)}`;
      if (d.errors.length === 0) lines.push(`${where}: valid`);
      for (const e of d.errors) lines.push(`${where}: ${formatIssue(e)}`);
      if (d.errors.length > 0) failed = true;
    }
  }
  return { output: lines.join('\n'), exitCode: failed ? 1 : 0 };
}

/**
 * A workload as written on the command line: `NAMESPACE/key=value,key=value` for a pod (it gets the
 * namespace and cluster labels like a real pod), `reserved:world` or `reserved:host` for reserved
 * identities, a CIDR like `192.0.2.1/32` for an outside address, or explicit labels `k8s:a=b k8s:c=d`.
 */
export function parsePeerSpec(spec: string): Label[] {
  const slash = spec.indexOf('/');
  const cidr = parsePrefix(spec);
  if (cidr !== undefined) {
    return [cidrLabel(cidr.text), { source: LabelSource.reserved, key: 'world', value: '' }];
  }
  if (slash > 0 && !spec.slice(0, slash).includes(':') && !spec.slice(0, slash).includes('=')) {
    const namespace = spec.slice(0, slash);
    const pod: Record<string, string> = {};
    for (const l of parseLabels(spec.slice(slash + 1), LabelSource.k8s)) pod[l.key] = l.value;
    return labelsFromK8sPod(namespace, pod);
  }
  return parseLabels(spec, LabelSource.k8s);
}

/** `80/TCP`, `53/udp` or `80` (TCP). */
export function parsePortProtocol(text: string): { port: number; protocol: number } {
  const [portText, protoText = 'TCP'] = text.split('/');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`explain: ${JSON.stringify(text)} is not PORT or PORT/PROTOCOL`);
  return { port, protocol: protocolNumber(protoText) };
}

export interface ExplainOfflineRequest {
  readonly policyFiles: readonly string[];
  /** Labels, or a peer spec for {@link parsePeerSpec}. */
  readonly source: readonly Label[] | string;
  readonly destination: readonly Label[] | string;
  /** `80/TCP`, or a port with `protocol`. */
  readonly port: string | number;
  readonly protocol?: string;
}

/** `cilium policy explain` without an agent: the policies come from files, the workloads from labels. */
export async function explainOffline(req: ExplainOfflineRequest): Promise<CommandResult & { explanation?: Explanation }> {
  const engine = new PolicyEngine();
  for (const path of req.policyFiles) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      return { output: `${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, exitCode: 1 };
    }
    const r = engine.repository.apply(text);
    if (!r.ok) {
      const errors = r.parse?.documents.flatMap((d) => d.errors.map((e) => `${path}#${d.index} ${describeDoc(d)}: ${formatIssue(e)}`)) ?? [];
      return { output: [...errors, ...r.errors.map((e) => `${path}: ${e}`)].join('\n'), exitCode: 1 };
    }
  }
  let port: { port: number; protocol: number };
  try {
    port =
      typeof req.port === 'number'
        ? { port: req.port, protocol: protocolNumber(req.protocol ?? 'TCP') }
        : parsePortProtocol(req.protocol !== undefined ? `${req.port}/${req.protocol}` : req.port);
  } catch (e) {
    return { output: (e as Error).message, exitCode: 1 };
  }
  const labels = (p: readonly Label[] | string) => (typeof p === 'string' ? parsePeerSpec(p) : p);
  const explanation = explain(engine, {
    source: { labels: labels(req.source) },
    destination: { labels: labels(req.destination) },
    port: port.port,
    protocol: port.protocol,
  });
  return { output: formatExplanation(explanation), exitCode: 0, explanation };
}
