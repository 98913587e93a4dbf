import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCli } from './lab-cli.js';

// Native routing: no tunnel, each node routes the other's pod CIDR through its underlay address, and the
// receiving node learns the sender's identity from the ipcache instead of the VNI.
describe('a lab with native routing', () => {
  const lab = new LabCli();
  const dir = mkdtempSync(join(tmpdir(), 'e2e-native-'));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    const topology = write(
      'topology.yaml',
      `nodes: [node-1, node-2]
namespaces: {x: {labels: {ns: x}}, y: {labels: {ns: y}}}
pods:
  - {namespace: x, name: a, node: node-1, labels: {pod: a}, ports: [{port: 80, protocol: TCP}, {port: 80, protocol: UDP}]}
  - {namespace: y, name: b, node: node-2, labels: {pod: b}, ports: [{port: 80, protocol: TCP}, {port: 80, protocol: UDP}]}
  - {namespace: y, name: c, node: node-2, labels: {pod: c}, ports: [{port: 80, protocol: TCP}]}
`,
    );
    await lab.ok('up', '-f', topology, '--routing', 'native');
  }, 120_000);
  afterAll(async () => {
    await lab.run('down');
  });

  it('connects every pod to every pod, across nodes, while no policy selects them', async () => {
    expect(await lab.reachable('80/TCP')).toEqual(['x/a -> y/b', 'x/a -> y/c', 'y/b -> x/a', 'y/b -> y/c', 'y/c -> x/a', 'y/c -> y/b']);
  });

  it('enforces a Kubernetes NetworkPolicy with a namespaceSelector across nodes', async () => {
    const policy = write(
      'allow-from-x.yaml',
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-from-x, namespace: y}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {ns: x}}}]
`,
    );
    await lab.ok('apply', '-f', policy);
    expect(await lab.reachable('80/TCP')).toEqual(['x/a -> y/b', 'x/a -> y/c', 'y/b -> x/a', 'y/b -> y/c', 'y/c -> x/a']);
    // c serves no UDP port; a does, and nothing selects a.
    expect(await lab.reachable('80/UDP')).toEqual(['x/a -> y/b', 'y/b -> x/a', 'y/c -> x/a']);
  });

  it('follows a namespace label change, as namespaceSelectors do on Kubernetes', async () => {
    await lab.ok('label', 'namespace', 'x', 'ns=elsewhere');
    await expect.poll(() => lab.connected('x/a', 'y/b', '80/TCP'), { timeout: 10_000 }).toBe(false);
    await lab.ok('label', 'namespace', 'x', 'ns=x');
    await expect.poll(() => lab.connected('x/a', 'y/b', '80/TCP'), { timeout: 10_000 }).toBe(true);
  });
});
