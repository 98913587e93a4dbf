// The etcd key layout of identities, upstream's plus one uniqueness key per label set.
//
//   cilium/state/identities/v1/id/<id>                  -> <labels>   no lease (garbage collected)
//   cilium/state/identities/v1/value/<labels>/<node>    -> <id>       under the node's lease
//   cilium/state/identities/v1/labels/<labels>          -> <id>       no lease (removed with id/<id>)
//
// etcd transactions cannot search by value, so the labels key is what lets one transaction
// guarantee that a label set gets a single id: it is created together with id/<id> only if
// neither exists yet.

export const IDENTITIES_PREFIX = 'cilium/state/identities/v1/';
export const ID_PREFIX = `${IDENTITIES_PREFIX}id/`;
export const VALUE_PREFIX = `${IDENTITIES_PREFIX}value/`;
export const LABELS_PREFIX = `${IDENTITIES_PREFIX}labels/`;

export function idKey(id: number): string {
  return `${ID_PREFIX}${id}`;
}

/** Prefix of every node's reference to a label set; canonical labels end in `;`, so no prefix clash. */
export function valuePrefix(labels: string): string {
  return `${VALUE_PREFIX}${labels}/`;
}

export function valueKey(labels: string, nodeName: string): string {
  return `${valuePrefix(labels)}${nodeName}`;
}

export function labelsKey(labels: string): string {
  return `${LABELS_PREFIX}${labels}`;
}

/** The id in an `id/<id>` key, or undefined for anything else under the prefix. */
export function parseIdKey(key: string): number | undefined {
  if (!key.startsWith(ID_PREFIX)) return undefined;
  const text = key.slice(ID_PREFIX.length);
  if (!/^[0-9]+$/.test(text)) return undefined;
  return Number(text);
}
