import { describe, expect, it } from 'vitest';
import { canonicalLabels, needsLocalIdentity, parseLabel, parseLabelString } from './labels.js';

describe('canonical label strings', () => {
  it('sorts by key and ends every label with ";" (upstream SortedList, the etcd format)', () => {
    expect(canonicalLabels(['k8s:role=db', 'k8s:app=web', 'container:x=1'])).toBe('k8s:app=web;k8s:role=db;container:x=1;');
  });

  it('keeps one label per key, the last given, as upstream does', () => {
    expect(canonicalLabels(['container:app=a', 'k8s:app=b'])).toBe('k8s:app=b;');
  });

  it('writes labels without a value as key= and without a source as unspec', () => {
    expect(canonicalLabels(['reserved:host', 'app=web'])).toBe('unspec:app=web;reserved:host=;');
  });

  it('keeps colons and slashes of the value', () => {
    expect(parseLabel('k8s:app.kubernetes.io/name=a:b')).toEqual({ source: 'k8s', key: 'app.kubernetes.io/name', value: 'a:b' });
  });

  it('round-trips through parseLabelString', () => {
    const text = canonicalLabels(['k8s:b=2', 'k8s:a=1']);
    expect(parseLabelString(text)).toEqual(['k8s:a=1', 'k8s:b=2']);
    expect(canonicalLabels(parseLabelString(text))).toBe(text);
  });

  it('rejects the separator inside a label, and a source with a slash', () => {
    expect(() => parseLabel('k8s:a=b;c')).toThrow(/separator/);
    expect(() => parseLabel('/k8s:a=b')).toThrow(/must not contain '\/'/);
  });

  it('calls for a local identity for CIDR and FQDN labels only', () => {
    expect(needsLocalIdentity(['cidr:10.0.0.0/8', 'reserved:world'])).toBe(true);
    expect(needsLocalIdentity(['fqdn:api.example.com'])).toBe(true);
    expect(needsLocalIdentity(['k8s:app=web'])).toBe(false);
  });
});
