// The selector cache: every selector in use, the identities it selects, kept up to date as identities come and go.
import type { Label } from '@cilium-ts/labels';
import { LabelSource, sortLabels } from '@cilium-ts/labels';
import type { Selector, SelectorContext } from './selector.js';
import { isWildcardSelector, LabelIndex, selectorKey, selectorMatches } from './selector.js';

export interface SelectionChange {
  readonly added: readonly number[];
  readonly removed: readonly number[];
}

/** Told when the selections of selectors it uses change; one call per identity update, all selectors at once. */
export interface SelectorUser {
  selectionsChanged(changes: ReadonlyMap<CachedSelector, SelectionChange>): void;
}

/** One selector shared by every rule that spells it the same way. */
export class CachedSelector {
  readonly key: string;
  readonly isWildcard: boolean;
  /** Identities currently selected. */
  readonly selections = new Set<number>();
  readonly users = new Map<SelectorUser, number>();
  /** Registrations, with or without a user; the cache drops the selector when this reaches 0. */
  refs = 0;

  constructor(readonly selector: Selector) {
    this.key = selectorKey(selector);
    this.isWildcard = isWildcardSelector(selector);
  }

  selects(id: number): boolean {
    return this.selections.has(id);
  }
}

export interface IdentityUpdate {
  readonly id: number;
  readonly labels: readonly Label[];
}

export class SelectorCache {
  private readonly selectors = new Map<string, CachedSelector>();
  private readonly identities = new Map<number, LabelIndex>();
  // `key=value` -> identities carrying it, so equality requirements do not scan every identity.
  private readonly valueIndex = new Map<string, Set<number>>();
  private readonly sourceIndex = new Map<string, Set<number>>();

  constructor(private readonly ctx: SelectorContext = {}) {}

  get dualStack(): boolean {
    return this.ctx.dualStack === true;
  }

  /** Registers `user` for a selector and returns the shared entry with its current selections. */
  addSelector(selector: Selector, user?: SelectorUser): CachedSelector {
    const key = selectorKey(selector);
    let cs = this.selectors.get(key);
    if (cs === undefined) {
      cs = new CachedSelector(selector);
      for (const id of this.candidates(selector)) {
        const labels = this.identities.get(id);
        if (labels !== undefined && selectorMatches(selector, labels, this.ctx)) cs.selections.add(id);
      }
      this.selectors.set(key, cs);
    }
    cs.refs++;
    if (user !== undefined) cs.users.set(user, (cs.users.get(user) ?? 0) + 1);
    return cs;
  }

  /** Drops one registration (of `user`, if given); the selector goes when nothing holds it. */
  removeSelector(cs: CachedSelector, user?: SelectorUser): void {
    if (user !== undefined) {
      const n = (cs.users.get(user) ?? 0) - 1;
      if (n <= 0) cs.users.delete(user);
      else cs.users.set(user, n);
    }
    cs.refs--;
    if (cs.refs <= 0 && this.selectors.get(cs.key) === cs) this.selectors.delete(cs.key);
  }

  get(key: string): CachedSelector | undefined {
    return this.selectors.get(key);
  }

  get selectorCount(): number {
    return this.selectors.size;
  }

  get identityCount(): number {
    return this.identities.size;
  }

  labels(id: number): readonly Label[] | undefined {
    return this.identities.get(id)?.labels;
  }

  /** Every known identity with its labels. */
  *allIdentities(): IterableIterator<IdentityUpdate> {
    for (const [id, idx] of this.identities) yield { id, labels: idx.labels };
  }

  /**
   * Adds (or relabels) and removes identities, updates every selector and tells each user, once, which
   * selections changed. Returns the changes by selector.
   */
  updateIdentities(
    added: readonly IdentityUpdate[],
    removed: readonly number[] = [],
  ): Map<CachedSelector, SelectionChange> {
    const changes = new Map<CachedSelector, { added: number[]; removed: number[] }>();
    const note = (cs: CachedSelector, id: number, kind: 'added' | 'removed') => {
      let c = changes.get(cs);
      if (c === undefined) changes.set(cs, (c = { added: [], removed: [] }));
      c[kind].push(id);
    };
    for (const id of removed) {
      const idx = this.identities.get(id);
      if (idx === undefined) continue;
      this.identities.delete(id);
      this.unindex(id, idx);
      for (const cs of this.selectors.values()) if (cs.selections.delete(id)) note(cs, id, 'removed');
    }
    for (const { id, labels } of added) {
      const old = this.identities.get(id);
      if (old !== undefined) this.unindex(id, old);
      const idx = new LabelIndex(sortLabels(labels));
      this.identities.set(id, idx);
      this.index(id, idx);
      for (const cs of this.selectors.values()) {
        const match = selectorMatches(cs.selector, idx, this.ctx);
        const had = cs.selections.has(id);
        if (match && !had) {
          cs.selections.add(id);
          note(cs, id, 'added');
        } else if (!match && had) {
          cs.selections.delete(id);
          note(cs, id, 'removed');
        }
      }
    }
    const byUser = new Map<SelectorUser, Map<CachedSelector, SelectionChange>>();
    for (const [cs, c] of changes) {
      for (const user of cs.users.keys()) {
        let m = byUser.get(user);
        if (m === undefined) byUser.set(user, (m = new Map()));
        m.set(cs, c);
      }
    }
    for (const [user, m] of byUser) user.selectionsChanged(m);
    return changes;
  }

  private index(id: number, idx: LabelIndex): void {
    for (const l of idx.labels) {
      add(this.valueIndex, `${l.key}=${l.value}`, id);
      add(this.sourceIndex, l.source, id);
    }
  }

  private unindex(id: number, idx: LabelIndex): void {
    for (const l of idx.labels) {
      this.valueIndex.get(`${l.key}=${l.value}`)?.delete(id);
      this.sourceIndex.get(l.source)?.delete(id);
    }
  }

  /** A superset of the identities a selector may select, as small as the indexes allow. */
  private candidates(selector: Selector): Iterable<number> {
    if (selector.type === 'cidr') {
      return [...(this.sourceIndex.get(LabelSource.cidr) ?? []), ...(this.sourceIndex.get(LabelSource.reserved) ?? [])];
    }
    if (selector.type === 'fqdn') return this.sourceIndex.get(LabelSource.fqdn) ?? [];
    let best: number[] | Set<number> | undefined;
    for (const r of selector.requirements) {
      if (r.operator !== 'In') continue;
      const ids = r.values.flatMap((v) => [...(this.valueIndex.get(`${r.key}=${v}`) ?? [])]);
      if (best === undefined || ids.length < (Array.isArray(best) ? best.length : best.size)) best = ids;
    }
    return best ?? this.identities.keys();
  }
}

function add(m: Map<string, Set<number>>, k: string, id: number): void {
  let s = m.get(k);
  if (s === undefined) m.set(k, (s = new Set()));
  s.add(id);
}
