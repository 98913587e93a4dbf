import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryPodSource } from './pod-source.js';

describe('the lab pod source: labels of pods and namespaces from a directory', () => {
  let dir: string;
  let src: DirectoryPodSource | undefined;
  const write = async (rel: string, labels: Record<string, string>) => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), JSON.stringify({ labels }));
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pod-source-'));
  });
  afterEach(async () => {
    src?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("gives a pod's labels together with its namespace's", async () => {
    await write('namespaces/x.json', { ns: 'x', 'kubernetes.io/metadata.name': 'x' });
    await write('pods/x/a.json', { pod: 'a' });
    src = await DirectoryPodSource.open(dir, 60_000);
    expect(src.get('x', 'a')).toEqual({ namespace: 'x', name: 'a', labels: { pod: 'a' }, namespaceLabels: { ns: 'x', 'kubernetes.io/metadata.name': 'x' } });
    expect(src.get('x', 'b')).toBeUndefined();
  });

  it('names the pods a change affects: the pod itself, or every pod of a relabelled namespace', async () => {
    await write('namespaces/x.json', { ns: 'x' });
    await write('pods/x/a.json', { pod: 'a' });
    await write('pods/x/b.json', { pod: 'b' });
    src = await DirectoryPodSource.open(dir, 60_000);
    const seen: string[][] = [];
    src.onChange((pods) => seen.push(pods.map((p) => `${p.namespace}/${p.name}`).sort()));

    await write('pods/x/a.json', { pod: 'a', tier: 'web' });
    await src.scan();
    await write('namespaces/x.json', { ns: 'x', env: 'prod' });
    await src.scan();
    await rm(join(dir, 'pods/x/b.json'));
    await src.scan();
    await src.scan();

    expect(seen).toEqual([['x/a'], ['x/a', 'x/b'], ['x/b']]);
    expect(src.get('x', 'a')?.namespaceLabels).toEqual({ ns: 'x', env: 'prod' });
    expect(src.get('x', 'b')).toBeUndefined();
  });
});
