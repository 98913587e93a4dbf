// Identity garbage collection (the operator runs it). An identity is removed only when no node
// references it: every value key for its labels is gone, typically because the nodes released it
// or their leases expired. It must stay unreferenced for the grace period, observed over two runs
// (mark, then delete), and the delete is a transaction that fails if a reference appeared or the
// identity changed since it was marked.
import { ID_PREFIX, idKey, LABELS_PREFIX, labelsKey, parseIdKey, VALUE_PREFIX, valuePrefix } from './identity-keys.js';
import type { Kvstore } from './kvstore.js';

export interface GcMark {
  modRevision: number;
  since: number;
}

export interface GcOptions {
  /** How long an identity must stay unreferenced before it is deleted. */
  graceMs: number;
  /** Marks from earlier runs; by default kept per Kvstore client. */
  marks?: Map<number, GcMark>;
  now?: () => number;
}

export interface GcResult {
  /** Identities with at least one reference. */
  alive: number[];
  /** Unreferenced identities still within their grace period. */
  marked: number[];
  deleted: number[];
  /** Deletions abandoned because a reference appeared or the identity changed meanwhile. */
  skipped: number[];
}

const defaultMarks = new WeakMap<Kvstore, Map<number, GcMark>>();

/** The label string a value key `value/<labels>/<node>` refers to (labels may contain `/`). */
function labelsOfValueKey(key: string): string | undefined {
  const rest = key.slice(VALUE_PREFIX.length);
  const slash = rest.lastIndexOf('/');
  return slash > 0 ? rest.slice(0, slash) : undefined;
}

export async function collectGarbage(kv: Kvstore, options: GcOptions): Promise<GcResult> {
  const now = options.now ?? Date.now;
  let marks = options.marks ?? defaultMarks.get(kv);
  if (!marks) {
    marks = new Map();
    defaultMarks.set(kv, marks);
  }
  const [ids, values, labelKeys] = await Promise.all([kv.list(ID_PREFIX), kv.list(VALUE_PREFIX), kv.list(LABELS_PREFIX)]);
  const referenced = new Set<string>();
  for (const pair of values.pairs) {
    const labels = labelsOfValueKey(pair.key);
    if (labels !== undefined) referenced.add(labels);
  }
  const labelIndex = new Map(labelKeys.pairs.map((p) => [p.key, p]));

  const result: GcResult = { alive: [], marked: [], deleted: [], skipped: [] };
  const present = new Set<number>();
  for (const pair of ids.pairs) {
    const id = parseIdKey(pair.key);
    if (id === undefined) continue;
    present.add(id);
    const labelString = pair.value;
    if (referenced.has(labelString)) {
      marks.delete(id);
      result.alive.push(id);
      continue;
    }
    const mark = marks.get(id);
    if (!mark || mark.modRevision !== pair.modRevision) {
      marks.set(id, { modRevision: pair.modRevision, since: now() });
      result.marked.push(id);
      continue;
    }
    if (now() - mark.since < options.graceMs) {
      result.marked.push(id);
      continue;
    }
    const index = labelIndex.get(labelsKey(labelString));
    const ownsIndex = index?.value === String(id);
    const res = await kv.txn(
      `gc identity ${id}`,
      [
        { kind: 'prefixEmpty', prefix: valuePrefix(labelString) },
        { kind: 'modRevisionEquals', key: idKey(id), revision: pair.modRevision },
        // Leave a labels key that points elsewhere alone, and notice if it changed.
        { kind: 'modRevisionEquals', key: labelsKey(labelString), revision: index?.modRevision ?? 0 },
      ],
      [{ kind: 'delete', key: idKey(id) }, ...(ownsIndex ? [{ kind: 'delete' as const, key: labelsKey(labelString) }] : [])],
    );
    marks.delete(id);
    if (res.succeeded) result.deleted.push(id);
    else result.skipped.push(id);
  }
  for (const id of [...marks.keys()]) if (!present.has(id)) marks.delete(id);
  return result;
}
