// Small in-memory tables for the agent's desired state (like upstream's StateDB in spirit): objects
// keyed by a primary key, optional secondary indexes, a revision per change, and watchers that see every
// change in order. Objects are treated as immutable: replace them, never mutate them in place.

export interface TableIndex<T> {
  name: string;
  /** One or more index values of an object (e.g. every IP of an endpoint). */
  keys(obj: T): readonly string[];
}

export interface Change<T> {
  kind: 'upsert' | 'delete';
  key: string;
  object: T;
  revision: number;
}

export type ChangeListener<T> = (change: Change<T>) => void;

interface Row<T> {
  object: T;
  revision: number;
}

export class Table<T> {
  private readonly rows = new Map<string, Row<T>>();
  private readonly indexes = new Map<string, { index: TableIndex<T>; entries: Map<string, Set<string>> }>();
  private readonly listeners = new Set<ChangeListener<T>>();
  private rev = 0;

  constructor(
    readonly name: string,
    readonly primaryKey: (obj: T) => string,
    indexes: readonly TableIndex<T>[] = [],
  ) {
    for (const index of indexes) this.indexes.set(index.name, { index, entries: new Map() });
  }

  /** The revision of the last change to the table. */
  get revision(): number {
    return this.rev;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Inserts or replaces an object; returns the revision of the change. */
  upsert(obj: T): number {
    const key = this.primaryKey(obj);
    const old = this.rows.get(key);
    if (old) this.unindex(key, old.object);
    const revision = ++this.rev;
    this.rows.set(key, { object: obj, revision });
    this.index(key, obj);
    this.emit({ kind: 'upsert', key, object: obj, revision });
    return revision;
  }

  delete(key: string): T | undefined {
    const old = this.rows.get(key);
    if (!old) return undefined;
    this.rows.delete(key);
    this.unindex(key, old.object);
    const revision = ++this.rev;
    this.emit({ kind: 'delete', key, object: old.object, revision });
    return old.object;
  }

  /** Deletes every object the predicate selects; returns how many. */
  deleteWhere(pred: (obj: T) => boolean): number {
    let n = 0;
    for (const [key, row] of [...this.rows]) {
      if (pred(row.object)) {
        this.delete(key);
        n++;
      }
    }
    return n;
  }

  get(key: string): T | undefined {
    return this.rows.get(key)?.object;
  }

  revisionOf(key: string): number | undefined {
    return this.rows.get(key)?.revision;
  }

  /** Objects whose index `indexName` has the value `value`, in primary-key order. */
  getBy(indexName: string, value: string): T[] {
    const idx = this.indexes.get(indexName);
    if (!idx) throw new Error(`table ${this.name}: no index "${indexName}"`);
    const keys = [...(idx.entries.get(value) ?? [])].sort();
    return keys.map((k) => this.rows.get(k)!.object);
  }

  /** All objects in primary-key order. */
  list(): T[] {
    return [...this.rows.keys()].sort().map((k) => this.rows.get(k)!.object);
  }

  /** Calls the listener for every later change; returns the function that stops watching. */
  watch(listener: ChangeListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: Change<T>): void {
    for (const l of this.listeners) l(change);
  }

  private index(key: string, obj: T): void {
    for (const { index, entries } of this.indexes.values()) {
      for (const v of index.keys(obj)) {
        let set = entries.get(v);
        if (!set) entries.set(v, (set = new Set()));
        set.add(key);
      }
    }
  }

  private unindex(key: string, obj: T): void {
    for (const { index, entries } of this.indexes.values()) {
      for (const v of index.keys(obj)) {
        const set = entries.get(v);
        set?.delete(key);
        if (set?.size === 0) entries.delete(v);
      }
    }
  }
}
