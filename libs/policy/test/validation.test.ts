// Validation: every malformed document is rejected with exactly the errors a user needs to fix it.
import { describe, expect, it } from 'vitest';
import { formatIssue, parsePolicies } from '../src/index.js';
import { malformed } from './validation-cases.js';

function errorsOf(text: string): string[] {
  return parsePolicies(text).documents.flatMap((d) => d.errors.map(formatIssue));
}

describe('malformed documents', () => {
  it('has at least 40 cases', () => {
    expect(malformed.length).toBeGreaterThanOrEqual(40);
  });

  it.each(malformed)('%s', (_name, text, want) => {
    const result = parsePolicies(text);
    expect(result.valid).toBe(false);
    expect(result.policies).toEqual([]);
    expect(errorsOf(text)).toEqual(want);
  });
});

describe('documents in a stream', () => {
  it('reports each document with its index and name, valid ones included', () => {
    const text = [
      'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: good}\nspec: {endpointSelector: {}}',
      'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: bad}\nspec: {endpointSelector: {}, egress: [{toCIDR: [nope]}]}',
    ].join('\n---\n');
    const r = parsePolicies(text);
    expect(r.valid).toBe(false);
    expect(r.documents.map((d) => [d.index, d.name, d.errors.map(formatIssue)])).toEqual([
      ['0', 'good', []],
      ['1', 'bad', ['spec.egress[0].toCIDR[0]: "nope" is not a CIDR']],
    ]);
    expect(r.policies.map((p) => p.name)).toEqual(['good']);
  });

  it('reports items of a List by position', () => {
    const text = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'a', namespace: 'x' }, spec: { podSelector: {} } },
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'b' }, spec: {} },
      ],
    });
    const r = parsePolicies(text);
    expect(r.documents.map((d) => [d.index, d.name, d.namespace, d.errors.map(formatIssue)])).toEqual([
      ['0.items[0]', 'a', 'x', []],
      ['0.items[1]', 'b', 'default', ['spec.podSelector: required']],
    ]);
  });

  it('ignores empty documents', () => {
    const r = parsePolicies('---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a}\nspec: {endpointSelector: {}}\n---\n');
    expect(r.valid).toBe(true);
    expect(r.documents).toHaveLength(1);
  });
});
