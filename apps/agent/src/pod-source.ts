import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatLabel, labelsFromK8sPod } from '@cilium-ts/labels';

/** What the agent learns about a pod from its source of truth (Kubernetes, or the lab). */
export interface PodMetadata {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
}

/**
 * Where pod and namespace labels come from. On Kubernetes it is an informer; in the lab, a directory the
 * lab writes. The agent resolves an endpoint's labels through it and follows its changes.
 */
export interface PodMetadataSource {
  get(namespace: string, name: string): PodMetadata | undefined;
  /** Called after a change with the pods whose metadata changed (a namespace change names all its pods). */
  onChange(listener: (pods: ReadonlyArray<{ namespace: string; name: string }>) => void): () => void;
  close(): void;
}

type Labels = Record<string, string>;

function parseLabelsFile(text: string, path: string): Labels {
  const doc = JSON.parse(text) as { labels?: unknown };
  const labels = doc.labels ?? {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw new Error(`${path}: labels must be an object`);
  for (const [k, v] of Object.entries(labels)) if (typeof v !== 'string') throw new Error(`${path}: labels.${k} must be a string`);
  return labels as Labels;
}

const sameLabels = (a: Labels | undefined, b: Labels | undefined) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The lab's source: `<dir>/namespaces/<ns>.json` and `<dir>/pods/<ns>/<pod>.json`, each `{"labels": {...}}`,
 * written atomically by `cilium-lab`. Polled, because a few dozen small files cost nothing to stat and
 * polling behaves the same everywhere.
 */
export class DirectoryPodSource implements PodMetadataSource {
  private namespaces = new Map<string, Labels>();
  private pods = new Map<string, Labels>();
  private mtimes = new Map<string, number>();
  private listeners = new Set<(pods: ReadonlyArray<{ namespace: string; name: string }>) => void>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(readonly dir: string) {}

  static async open(dir: string, pollMs = 200): Promise<DirectoryPodSource> {
    const src = new DirectoryPodSource(dir);
    await src.scan();
    src.timer = setInterval(() => void src.scan().catch(() => undefined), pollMs);
    src.timer.unref();
    return src;
  }

  get(namespace: string, name: string): PodMetadata | undefined {
    const labels = this.pods.get(`${namespace}/${name}`);
    if (!labels) return undefined;
    return { namespace, name, labels, namespaceLabels: this.namespaces.get(namespace) ?? {} };
  }

  onChange(listener: (pods: ReadonlyArray<{ namespace: string; name: string }>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  /** Re-reads what changed since the last scan and tells listeners which pods are affected. */
  async scan(): Promise<void> {
    const seen = new Set<string>();
    const readIfChanged = async (path: string): Promise<Labels | undefined> => {
      seen.add(path);
      const m = (await stat(path)).mtimeMs;
      if (this.mtimes.get(path) === m) return undefined;
      this.mtimes.set(path, m);
      return parseLabelsFile(await readFile(path, 'utf8'), path);
    };
    const list = (d: string) => readdir(d).catch(() => [] as string[]);

    const nextNamespaces = new Map(this.namespaces);
    for (const f of (await list(join(this.dir, 'namespaces'))).filter((f) => f.endsWith('.json'))) {
      const labels = await readIfChanged(join(this.dir, 'namespaces', f)).catch(() => undefined);
      if (labels) nextNamespaces.set(f.slice(0, -5), labels);
    }
    const nextPods = new Map(this.pods);
    for (const ns of await list(join(this.dir, 'pods'))) {
      for (const f of (await list(join(this.dir, 'pods', ns))).filter((f) => f.endsWith('.json'))) {
        const labels = await readIfChanged(join(this.dir, 'pods', ns, f)).catch(() => undefined);
        if (labels) nextPods.set(`${ns}/${f.slice(0, -5)}`, labels);
      }
    }
    for (const path of [...this.mtimes.keys()]) {
      if (seen.has(path)) continue;
      this.mtimes.delete(path);
      const rel = path.slice(this.dir.length + 1).split('/');
      if (rel[0] === 'namespaces') nextNamespaces.delete(rel[1]!.slice(0, -5));
      else if (rel[0] === 'pods') nextPods.delete(`${rel[1]}/${rel[2]!.slice(0, -5)}`);
    }

    const changed = new Set<string>();
    for (const key of new Set([...this.pods.keys(), ...nextPods.keys()])) {
      if (!sameLabels(this.pods.get(key), nextPods.get(key))) changed.add(key);
    }
    for (const ns of new Set([...this.namespaces.keys(), ...nextNamespaces.keys()])) {
      if (sameLabels(this.namespaces.get(ns), nextNamespaces.get(ns))) continue;
      for (const key of nextPods.keys()) if (key.startsWith(`${ns}/`)) changed.add(key);
    }
    this.namespaces = nextNamespaces;
    this.pods = nextPods;
    if (changed.size === 0) return;
    const pods = [...changed].map((k) => ({ namespace: k.split('/')[0]!, name: k.split('/')[1]! }));
    for (const l of this.listeners) l(pods);
  }
}

/** An endpoint's labels for a pod, in upstream's form: the pod's, its namespace's, the namespace name and the cluster. */
export function endpointLabelsOf(meta: PodMetadata, clusterName: string): string[] {
  return labelsFromK8sPod(meta.namespace, meta.labels, meta.namespaceLabels, { clusterName }).map(formatLabel);
}
