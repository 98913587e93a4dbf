// The policy repository seam: all-or-nothing imports with errors that name the document and the field,
// deletion by the labels upstream derives for rules, validation without import, and the state file that
// brings the policy back after a restart.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyValidationError } from '../seams.js';
import { EnginePolicyRepository } from './engine-policy-repository.js';
import { NodePolicy } from './node-policy.js';

function cnp(name: string, port: string | number = '80') {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name, namespace: 'shop' },
    spec: {
      endpointSelector: { matchLabels: { app: 'web' } },
      ingress: [{ fromEndpoints: [{ matchLabels: { app: 'client' } }], toPorts: [{ ports: [{ port, protocol: 'TCP' }] }] }],
    },
  };
}

function withHttp(name: string, rules: Record<string, unknown>) {
  const doc = cnp(name);
  (doc.spec.ingress[0]!.toPorts[0] as Record<string, unknown>).rules = rules;
  return doc;
}

describe('EnginePolicyRepository', () => {
  let dir: string;
  let statePath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-policy-'));
    statePath = join(dir, 'policy.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = () => EnginePolicyRepository.open(new NodePolicy('default'), () => 'default', statePath);

  it('imports documents as one change and names every error of a rejected batch by document and path', async () => {
    const repo = await open();
    const revisions: number[] = [];
    repo.onChange((r) => revisions.push(r));
    expect(await repo.import([cnp('a'), cnp('b')])).toEqual({ revision: 2 });
    expect(revisions).toEqual([2]);

    const err = await repo.import([cnp('c'), cnp('d', '99999'), { kind: 'CiliumNetworkPolicy', metadata: {} }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyValidationError);
    const errors = (err as PolicyValidationError).errors;
    expect(errors).toContainEqual(expect.stringMatching(/^document 1 \(CiliumNetworkPolicy shop\/d\): spec\.ingress\[0\]\.toPorts\[0\]\.ports\[0\]\.port: /));
    expect(errors.some((e) => e.startsWith('document 2'))).toBe(true);
    // Nothing of the batch was taken, not even the valid document.
    expect(repo.revision()).toBe(2);
    expect((repo.rules() as { metadata: { name: string } }[]).map((d) => d.metadata.name)).toEqual(['a', 'b']);
  });

  it('rejects an import whose L7 rules clash with the policy in force', async () => {
    const repo = await open();
    await repo.import([withHttp('http', { http: [{ method: 'GET' }] })]);
    const err = await repo.import([withHttp('dns', { dns: [{ matchName: 'example.com' }] })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyValidationError);
    expect(repo.validate([withHttp('dns', { dns: [{ matchName: 'example.com' }] })]).valid).toBe(false);
    expect(repo.revision()).toBe(2);
  });

  it('validates without importing', async () => {
    const repo = await open();
    expect(repo.validate([cnp('a')])).toEqual({ valid: true, errors: [] });
    const bad = repo.validate([cnp('a', 'not-a-port!')]);
    expect(bad.valid).toBe(false);
    expect(bad.errors[0]).toMatch(/^document 0 \(CiliumNetworkPolicy shop\/a\): spec\.ingress\[0\]\.toPorts\[0\]\.ports\[0\]\.port/);
    expect(repo.revision()).toBe(1);
  });

  it('deletes by the labels derived from the policy object, with or without their source', async () => {
    const repo = await open();
    await repo.import([cnp('a'), cnp('b')]);
    expect(await repo.delete(['io.cilium.k8s.policy.name=a'])).toEqual({ revision: 3, deleted: 1 });
    expect(await repo.delete(['k8s:io.cilium.k8s.policy.name=a'])).toEqual({ revision: 3, deleted: 0 });
    expect(await repo.delete(['k8s:io.cilium.k8s.policy.namespace=shop', 'k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy'])).toMatchObject({ deleted: 1 });
    expect(repo.rules()).toEqual([]);
  });

  it('brings the imported policy back from the state dir, and refuses a state file it cannot enforce', async () => {
    const first = await open();
    await first.import([cnp('a'), cnp('b')]);
    await first.delete(['io.cilium.k8s.policy.name=b']);
    const again = await open();
    expect(again.rules()).toEqual([cnp('a')]);

    await writeFile(statePath, JSON.stringify([cnp('a', 'not-a-port!')]));
    await expect(open()).rejects.toThrow(/^restore policy from .*policy\.json: document 0 \(CiliumNetworkPolicy shop\/a\): spec\.ingress/);
  });
});
