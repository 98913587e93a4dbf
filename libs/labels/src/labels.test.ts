import { describe, expect, it } from 'vitest';
import {
  cidrLabel,
  filterSecurityRelevant,
  formatLabel,
  labelArrayKey,
  labelsFromK8sPod,
  parseLabel,
  parseLabelArrayKey,
} from './labels.js';
import {
  reservedIdentities,
  reservedIdentityLabels,
  ReservedIdentity,
} from './reserved-identities.js';

describe('parseLabel', () => {
  it.each([
    ['k8s:app=x', { source: 'k8s', key: 'app', value: 'x' }],
    ['reserved:host', { source: 'reserved', key: 'host', value: '' }],
    ['app=x', { source: 'any', key: 'app', value: 'x' }],
    ['k8s:io.kubernetes.pod.namespace=default', { source: 'k8s', key: 'io.kubernetes.pod.namespace', value: 'default' }],
    ['app=a:b', { source: 'any', key: 'app', value: 'a:b' }],
    ['cidr:10.0.0.0/8', { source: 'cidr', key: '10.0.0.0/8', value: '' }],
    ['$host', { source: 'reserved', key: 'host', value: '' }],
  ])('%s', (text, want) => {
    expect(parseLabel(text)).toEqual(want);
  });

  it('formats reserved labels without a value', () => {
    expect(formatLabel(parseLabel('reserved:world'))).toBe('reserved:world');
    expect(formatLabel(parseLabel('k8s:app=web'))).toBe('k8s:app=web');
  });
});

describe('cidrLabel', () => {
  it('writes IPv6 prefixes with dashes', () => {
    expect(cidrLabel('2001:db8::/32')).toEqual({ source: 'cidr', key: '2001-db8--/32', value: '' });
    expect(cidrLabel('10.0.0.0/8').key).toBe('10.0.0.0/8');
  });
});

describe('labelArrayKey', () => {
  it('is the kvstore form, sorted by key, whatever the input order', () => {
    const key = labelArrayKey([parseLabel('k8s:c=d'), parseLabel('k8s:a=b')]);
    expect(key).toBe('k8s:a=b;k8s:c=d;');
    expect(parseLabelArrayKey(key)).toEqual([parseLabel('k8s:a=b'), parseLabel('k8s:c=d')]);
  });
});

describe('labelsFromK8sPod', () => {
  it('adds the namespace, namespace labels and cluster labels', () => {
    const labels = labelsFromK8sPod('prod', { app: 'web' }, { team: 'a' });
    expect(labelArrayKey(labels)).toBe(
      'k8s:app=web;k8s:io.cilium.k8s.namespace.labels.team=a;k8s:io.cilium.k8s.policy.cluster=default;k8s:io.kubernetes.pod.namespace=prod;',
    );
  });

  it('filters labels that are not security relevant', () => {
    const labels = labelsFromK8sPod(
      'prod',
      { app: 'web', 'pod-template-hash': '5d8f', 'statefulset.kubernetes.io/pod-name': 'db-0', 'io.kubernetes.foo': 'x' },
      {},
      { clusterName: null },
    );
    expect(labelArrayKey(filterSecurityRelevant(labels))).toBe('k8s:app=web;k8s:io.kubernetes.pod.namespace=prod;');
  });
});

describe('reserved identities', () => {
  it('uses upstream numbers', () => {
    expect(ReservedIdentity).toMatchObject({ host: 1, world: 2, unmanaged: 3, health: 4, init: 5, remoteNode: 6 });
    expect(ReservedIdentity).toMatchObject({ kubeApiserver: 7, ingress: 8, worldIPv4: 9, worldIPv6: 10 });
    expect(reservedIdentityLabels(7).map(formatLabel)).toEqual(['reserved:kube-apiserver', 'reserved:remote-node']);
    expect(reservedIdentities().map((i) => i.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(reservedIdentities({ dualStack: true }).map((i) => i.id)).toContain(10);
  });

});
