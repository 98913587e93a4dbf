import type { LabelSet } from './labels.js';

export type IdentityScope = 'reserved' | 'global' | 'local';

/** A numeric security identity and the labels it stands for. */
export interface Identity {
  id: number;
  /** Canonical labels, sorted, each `source:key=value`. */
  labels: LabelSet;
  /** Upstream's label string, `source:key=value;...`; the etcd key component. */
  labelString: string;
  scope: IdentityScope;
}

export interface IdentityChangeEvent {
  kind: 'upsert' | 'delete';
  id: number;
  labels: LabelSet;
}

export type IdentityChangeListener = (event: IdentityChangeEvent) => void;
