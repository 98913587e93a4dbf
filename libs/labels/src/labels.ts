// The label model of Cilium identities: every label has a source (k8s, reserved, cidr, ...), a key and a value.

export interface Label {
  readonly source: string;
  readonly key: string;
  readonly value: string;
}

export const LabelSource = {
  any: 'any',
  k8s: 'k8s',
  reserved: 'reserved',
  cidr: 'cidr',
  fqdn: 'fqdn',
  container: 'container',
  unspec: 'unspec',
  cidrgroup: 'cidrgroup',
  node: 'node',
} as const;

/** The label every pod carries with the name of its namespace. */
export const PodNamespaceLabel = 'io.kubernetes.pod.namespace';
/** Prefix of the labels that copy the pod's namespace labels onto the pod's identity. */
export const PodNamespaceMetaLabelsPrefix = 'io.cilium.k8s.namespace.labels.';
export const PolicyClusterLabel = 'io.cilium.k8s.policy.cluster';
export const ServiceAccountLabel = 'io.cilium.k8s.policy.serviceaccount';

const knownSources = new Set<string>(Object.values(LabelSource));

/**
 * Parses `source:key=value`, `source:key` or `key=value`. A label without a source gets `defaultSource`
 * (`any` as in selectors, so `app=x` matches `k8s:app=x` as well as `container:app=x`).
 */
export function parseLabel(text: string, defaultSource: string = LabelSource.any): Label {
  // `$host` is upstream's short form of `reserved:host`.
  if (text.startsWith('$')) return parseLabel(`${LabelSource.reserved}:${text.slice(1)}`, defaultSource);
  let source = defaultSource;
  let rest = text;
  const colon = text.indexOf(':');
  const eq = text.indexOf('=');
  // A colon after the `=` belongs to the value, not to a source prefix.
  if (colon > 0 && (eq < 0 || colon < eq)) {
    source = text.slice(0, colon);
    rest = text.slice(colon + 1);
  }
  const eqRest = rest.indexOf('=');
  if (eqRest < 0) return { source, key: rest, value: '' };
  return { source, key: rest.slice(0, eqRest), value: rest.slice(eqRest + 1) };
}

/**
 * The label of a CIDR identity: `cidr:10.0.0.0/8`; IPv6 prefixes are written with `-` for `:` as upstream
 * does (`cidr:2001-db8--/32`), because `:` separates the source.
 */
export function cidrLabel(prefix: string): Label {
  return { source: LabelSource.cidr, key: prefix.replaceAll(':', '-'), value: '' };
}

/** Parses a list like `k8s:app=web,k8s:tier=db` or an array of such strings. */
export function parseLabels(text: string | readonly string[], defaultSource: string = LabelSource.any): Label[] {
  const parts = typeof text === 'string' ? text.split(/[,;\s]+/) : text;
  return sortLabels(parts.filter((p) => p.length > 0).map((p) => parseLabel(p, defaultSource)));
}

export function isKnownLabelSource(source: string): boolean {
  return knownSources.has(source) || source === 'cni' || source === 'gen' || source === 'directory';
}

/** `source:key=value`, the form used in selectors and explanations. */
export function formatLabel(label: Label): string {
  return label.value === '' && label.source === LabelSource.reserved
    ? `${label.source}:${label.key}`
    : `${label.source}:${label.key}=${label.value}`;
}

function compareLabels(a: Label, b: Label): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Labels sorted by key (then source), duplicates by key and source removed: the canonical order. */
export function sortLabels(labels: readonly Label[]): Label[] {
  const sorted = [...labels].sort(compareLabels);
  return sorted.filter((l, i) => {
    const prev = sorted[i - 1];
    return prev === undefined || prev.key !== l.key || prev.source !== l.source;
  });
}

/**
 * The canonical string of a label set, as upstream writes it into the kvstore identity keys:
 * `source:key=value;` for each label, sorted by key. Equal label sets give equal strings.
 */
export function labelArrayKey(labels: readonly Label[]): string {
  return sortLabels(labels)
    .map((l) => `${l.source}:${l.key}=${l.value};`)
    .join('');
}

/** The inverse of {@link labelArrayKey}. */
export function parseLabelArrayKey(key: string): Label[] {
  return sortLabels(
    key
      .split(';')
      .filter((p) => p.length > 0)
      .map((p) => parseLabel(p, LabelSource.unspec)),
  );
}

export interface PodLabelOptions {
  /** Cluster name for `io.cilium.k8s.policy.cluster` (upstream default `default`); `null` leaves it out. */
  clusterName?: string | null;
  serviceAccount?: string;
}

/**
 * The labels of a pod's identity as upstream derives them: the pod's labels with source `k8s`, the
 * namespace label, the namespace's labels under `io.cilium.k8s.namespace.labels.`, the cluster and
 * service account labels. Not yet filtered: apply {@link filterSecurityRelevant} for the identity.
 */
export function labelsFromK8sPod(
  namespace: string,
  podLabels: Readonly<Record<string, string>>,
  namespaceLabels: Readonly<Record<string, string>> = {},
  options: PodLabelOptions = {},
): Label[] {
  const out: Label[] = [];
  for (const [key, value] of Object.entries(podLabels)) out.push({ source: LabelSource.k8s, key, value });
  out.push({ source: LabelSource.k8s, key: PodNamespaceLabel, value: namespace });
  for (const [key, value] of Object.entries(namespaceLabels)) {
    out.push({ source: LabelSource.k8s, key: PodNamespaceMetaLabelsPrefix + key, value });
  }
  const cluster = options.clusterName === undefined ? 'default' : options.clusterName;
  if (cluster !== null) out.push({ source: LabelSource.k8s, key: PolicyClusterLabel, value: cluster });
  if (options.serviceAccount !== undefined) {
    out.push({ source: LabelSource.k8s, key: ServiceAccountLabel, value: options.serviceAccount });
  }
  return sortLabels(out);
}

// Upstream's default label filter (scalability/identity-relevant-labels): these keys never become part
// of an identity because they change per pod or per rollout and would explode the number of identities.
const excludedKeyPatterns: readonly RegExp[] = [
  /^io\.kubernetes(?!\.pod\.namespace$)/,
  /^kubernetes\.io/,
  /^statefulset\.kubernetes\.io\/pod-name$/,
  /^apps\.kubernetes\.io\/pod-index$/,
  /^batch\.kubernetes\.io\/job-completion-index$/,
  /^batch\.kubernetes\.io\/controller-uid$/,
  /^beta\.kubernetes\.io/,
  /^k8s\.io/,
  /^pod-template-generation$/,
  /^pod-template-hash$/,
  /^controller-revision-hash$/,
  /^annotation\./,
  /^controller-uid$/,
  /^etcd_node$/,
];

/** Whether a label takes part in the security identity under upstream's default filter. */
export function isSecurityRelevant(label: Label): boolean {
  if (label.source === LabelSource.reserved) return true;
  if (label.key === PodNamespaceLabel || label.key.startsWith(PodNamespaceMetaLabelsPrefix)) return true;
  return !excludedKeyPatterns.some((p) => p.test(label.key));
}

/** The security-relevant subset of a label set, in canonical order. */
export function filterSecurityRelevant(labels: readonly Label[]): Label[] {
  return sortLabels(labels.filter(isSecurityRelevant));
}
