import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabPaths } from './lab-paths.js';

/**
 * The lab plays the Kubernetes API for the agents: it writes pod and namespace labels where every agent's
 * pod source reads them (apps/agent pod-source.ts), as `kubectl label` would change them on a cluster.
 */
export function podSourceDir(paths: LabPaths): string {
  return join(paths.runDir, 'k8s');
}

function writeAtomic(path: string, labels: Record<string, string>): void {
  writeFileSync(`${path}.tmp`, JSON.stringify({ labels }, null, 2));
  renameSync(`${path}.tmp`, path);
}

export function writeNamespaceLabels(paths: LabPaths, namespace: string, labels: Record<string, string>): void {
  const dir = join(podSourceDir(paths), 'namespaces');
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, `${namespace}.json`), labels);
}

export function writePodLabels(paths: LabPaths, namespace: string, name: string, labels: Record<string, string>): void {
  const dir = join(podSourceDir(paths), 'pods', namespace);
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, `${name}.json`), labels);
}
