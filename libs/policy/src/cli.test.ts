import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainOffline, parsePeerSpec, parsePortProtocol, validateFiles } from './index.js';

let dir: string;
const good = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-api, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 5432}]
`;
const bad = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: broken, namespace: prod}
spec:
  endpointSelector: {}
  ingress:
  - toPorts: [{ports: [{port: "80"}]}, {ports: [{port: "http!", protocol: TCP}]}]
    fromEntities: [planet]
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'policy-cli-'));
  await writeFile(join(dir, 'good.yaml'), good);
  await writeFile(join(dir, 'bad.yaml'), `${good}---\n${bad}`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('validateFiles', () => {
  it('prints valid per document and exits 0', async () => {
    const r = await validateFiles([join(dir, 'good.yaml')]);
    expect(r).toEqual({ output: `${join(dir, 'good.yaml')}#0 NetworkPolicy prod/allow-api: valid`, exitCode: 0 });
  });

  it('prints every error with its path and exits 1', async () => {
    const f = join(dir, 'bad.yaml');
    const r = await validateFiles([f, join(dir, 'missing.yaml')]);
    expect(r.exitCode).toBe(1);
    expect(r.output.split('\n')).toEqual([
      `${f}#0 NetworkPolicy prod/allow-api: valid`,
      `${f}#1 CiliumNetworkPolicy prod/broken: spec.ingress[0].fromEntities[0]: "planet" is not an entity (all, world, cluster, host, remote-node, kube-apiserver, ingress, init, health, unmanaged, none)`,
      `${f}#1 CiliumNetworkPolicy prod/broken: spec.ingress[0].toPorts[1].ports[0].port: "http!" is not a port number or a port name`,
      `${join(dir, 'missing.yaml')}: cannot read: ENOENT`,
    ]);
  });
});

describe('explainOffline', () => {
  it('explains a flow between two pods given on the command line', async () => {
    const r = await explainOffline({ policyFiles: [join(dir, 'good.yaml')], source: 'prod/app=api', destination: 'prod/app=db', port: '5432/TCP' });
    expect(r.exitCode).toBe(0);
    expect(r.explanation?.allowed).toBe(true);
    expect(r.output).toContain('allowed by NetworkPolicy prod/allow-api spec.ingress[0]');
    const denied = await explainOffline({ policyFiles: [join(dir, 'good.yaml')], source: '192.0.2.1', destination: 'prod/app=db', port: 5432 });
    expect(denied.output.split('\n').at(-1)).toBe('verdict: DENIED');
  });

  it('refuses invalid policy files with their errors', async () => {
    const r = await explainOffline({ policyFiles: [join(dir, 'bad.yaml')], source: 'prod/app=api', destination: 'prod/app=db', port: '80' });
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('"http!" is not a port number or a port name');
  });

  it('parses peers and ports', () => {
    expect(parsePeerSpec('reserved:world')).toEqual([{ source: 'reserved', key: 'world', value: '' }]);
    expect(parsePeerSpec('prod/app=web').map((l) => `${l.source}:${l.key}=${l.value}`)).toContain('k8s:io.kubernetes.pod.namespace=prod');
    expect(parsePortProtocol('53/udp')).toEqual({ port: 53, protocol: 17 });
    expect(() => parsePortProtocol('x/TCP')).toThrow('explain: "x/TCP" is not PORT or PORT/PROTOCOL');
  });
});
