// Entities (fromEntities/toEntities) and the selectors they stand for (upstream api/entity.go).
import type { Selector } from './selector.js';
import { labelSelector, requirement, WildcardSelector } from './selector.js';
import { PolicyClusterLabel } from '@cilium-ts/labels';

export const Entities = [
  'all',
  'world',
  'cluster',
  'host',
  'remote-node',
  'kube-apiserver',
  'ingress',
  'init',
  'health',
  'unmanaged',
  'none',
] as const;
export type Entity = (typeof Entities)[number];

export function isEntity(name: string): name is Entity {
  return (Entities as readonly string[]).includes(name);
}

export interface EntityOptions {
  /** Local cluster name for the `cluster` entity (upstream default `default`). */
  clusterName?: string;
  /** Upstream's `--policy-cidr-match-mode`/`treat remote nodes as host`: `host` also selects remote nodes. */
  remoteNodeAsHost?: boolean;
}

function reserved(name: string): Selector {
  return labelSelector([requirement(`reserved:${name}`, 'Exists')]);
}

/** The selectors of one entity; `all` is the wildcard, `none` selects nothing. */
export function entitySelectors(entity: Entity, options: EntityOptions = {}): Selector[] {
  switch (entity) {
    case 'all':
      return [WildcardSelector];
    case 'none':
      return [];
    case 'world':
      return [reserved('world'), reserved('world-ipv4'), reserved('world-ipv6')];
    case 'host':
      return options.remoteNodeAsHost === true ? [reserved('host'), reserved('remote-node')] : [reserved('host')];
    case 'cluster':
      return [
        reserved('host'),
        reserved('remote-node'),
        reserved('kube-apiserver'),
        reserved('init'),
        reserved('ingress'),
        reserved('health'),
        reserved('unmanaged'),
        labelSelector([requirement(`k8s:${PolicyClusterLabel}`, 'In', [options.clusterName ?? 'default'])]),
      ];
    default:
      return [reserved(entity)];
  }
}
