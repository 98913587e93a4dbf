// Label sets of identities as strings, and upstream's canonical label string, which is both the etcd key
// component and the value of an identity. The label model itself is @cilium-ts/labels'.
import { LabelSource, labelArrayKey, parseLabel as parseSharedLabel, type Label } from '@cilium-ts/labels';

export type { Label };

/** Labels as `source:key=value` strings, e.g. `k8s:app=web`, `reserved:host`, `cidr:10.0.0.0/8`. */
export type LabelSet = readonly string[];

/** Sources whose identities are node-local: never written to etcd (upstream's local scope). */
export const LOCAL_SCOPE_SOURCES: ReadonlySet<string> = new Set(['cidr', 'fqdn', 'cidrgroup']);

/** A label of an identity, with the checks etcd keys need on top of the shared syntax. */
export function parseLabel(text: string): Label {
  const label = parseSharedLabel(text, LabelSource.unspec);
  const { source, key, value } = label;
  if (key === '') throw new Error(`label "${text}": empty key`);
  if (key.includes(';') || value.includes(';') || source.includes(';')) {
    throw new Error(`label "${text}": ';' is reserved as the label separator`);
  }
  // A label string then never continues with '/' after a ';', so `value/<labels>/` prefixes of
  // different label sets cannot nest.
  if (source.includes('/')) throw new Error(`label "${text}": source "${source}" must not contain '/'`);
  return label;
}

/**
 * Upstream's canonical label string (Labels.SortedList, the etcd key component): every label as
 * `source:key=value;`, sorted by key. Upstream holds one label per key whatever its source, so a
 * repeated key keeps the last label given.
 */
export function canonicalLabels(labels: LabelSet): string {
  // Lookups canonicalise the same few label sets over and over; remember recent answers. ';' is
  // rejected inside a label, so joining on it cannot make two different sets collide.
  const memoKey = labels.join(';');
  const memo = recentCanonical.get(memoKey);
  if (memo !== undefined) return memo;
  const result = computeCanonical(labels);
  if (recentCanonical.size >= CANONICAL_MEMO_SIZE) recentCanonical.clear();
  recentCanonical.set(memoKey, result);
  return result;
}

const CANONICAL_MEMO_SIZE = 8192;
const recentCanonical = new Map<string, string>();

function computeCanonical(labels: LabelSet): string {
  const byKey = new Map<string, Label>();
  for (const text of labels) {
    const label = parseLabel(text);
    byKey.set(label.key, label);
  }
  return labelArrayKey([...byKey.values()]);
}

/** Inverse of `canonicalLabels`: `k8s:a=b;k8s:c=;` -> [`k8s:a=b`, `k8s:c=`]. */
export function parseLabelString(text: string): string[] {
  return text
    .split(';')
    .filter((part) => part !== '')
    .map((part) => {
      const label = parseLabel(part);
      return `${label.source}:${label.key}=${label.value}`;
    });
}

/** True when the labels call for a node-local identity (CIDR, FQDN and CIDR-group labels). */
export function needsLocalIdentity(labels: LabelSet): boolean {
  return labels.some((text) => LOCAL_SCOPE_SOURCES.has(parseLabel(text).source));
}
