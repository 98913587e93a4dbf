import { describe, expect, it } from 'vitest';
import type { CachedSelector, SelectionChange, SelectorUser } from './index.js';
import { entitySelectors, SelectorCache } from './index.js';
import { labelsFromK8sPod, parseLabels } from '@cilium-ts/labels';
import { labelSelector, requirement } from './selector.js';

class Recorder implements SelectorUser {
  calls: Map<string, SelectionChange>[] = [];
  selectionsChanged(changes: ReadonlyMap<CachedSelector, SelectionChange>): void {
    this.calls.push(new Map([...changes].map(([cs, c]) => [cs.key, c])));
  }
}

const frontend = labelSelector([requirement('k8s:role', 'In', ['frontend']), requirement('k8s:io.kubernetes.pod.namespace', 'In', ['prod'])]);

describe('SelectorCache', () => {
  it('computes the selections of a new selector from the known identities', () => {
    const cache = new SelectorCache();
    cache.updateIdentities([
      { id: 300, labels: labelsFromK8sPod('prod', { role: 'frontend' }) },
      { id: 301, labels: labelsFromK8sPod('dev', { role: 'frontend' }) },
      { id: 302, labels: labelsFromK8sPod('prod', { role: 'backend' }) },
    ]);
    expect([...cache.addSelector(frontend).selections]).toEqual([300]);
  });

  it('shares one entry per selector and tells each user once per update', () => {
    const cache = new SelectorCache();
    const a = new Recorder();
    const b = new Recorder();
    const cs1 = cache.addSelector(frontend, a);
    const cs2 = cache.addSelector(labelSelector([...frontend.requirements].reverse()), b);
    expect(cs1).toBe(cs2);
    const world = cache.addSelector(entitySelectors('world')[0]!, a);
    cache.updateIdentities([
      { id: 300, labels: labelsFromK8sPod('prod', { role: 'frontend' }) },
      { id: 2, labels: parseLabels('reserved:world') },
      { id: 303, labels: labelsFromK8sPod('prod', { role: 'db' }) },
    ]);
    expect(a.calls).toEqual([
      new Map([
        [cs1.key, { added: [300], removed: [] }],
        [world.key, { added: [2], removed: [] }],
      ]),
    ]);
    expect(b.calls).toEqual([new Map([[cs1.key, { added: [300], removed: [] }]])]);
  });

  it('moves an identity out of a selection when it is relabelled or removed', () => {
    const cache = new SelectorCache();
    const user = new Recorder();
    cache.addSelector(frontend, user);
    cache.updateIdentities([{ id: 300, labels: labelsFromK8sPod('prod', { role: 'frontend' }) }]);
    cache.updateIdentities([{ id: 300, labels: labelsFromK8sPod('prod', { role: 'db' }) }]);
    cache.updateIdentities([{ id: 301, labels: labelsFromK8sPod('prod', { role: 'frontend' }) }]);
    cache.updateIdentities([], [301]);
    expect(cache.labels(301)).toBeUndefined();
    expect(cache.identityCount).toBe(1);
    expect(user.calls.map((m) => [...m.values()][0])).toEqual([
      { added: [300], removed: [] },
      { added: [], removed: [300] },
      { added: [301], removed: [] },
      { added: [], removed: [301] },
    ]);
  });

  it('selects CIDR identities by containment, minus the except', () => {
    const cache = new SelectorCache();
    cache.updateIdentities(
      ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '11.0.0.0/8'].map((c, i) => ({ id: 16777217 + i, labels: parseLabels(`cidr:${c} reserved:world`) })),
    );
    const cs = cache.addSelector({ type: 'cidr', cidr: '10.0.0.0/8', except: ['10.1.2.0/24'] });
    expect([...cs.selections].sort()).toEqual([16777217, 16777218]);
  });

  it('drops a selector when the last holder releases it', () => {
    const cache = new SelectorCache();
    const user = new Recorder();
    const cs = cache.addSelector(frontend, user);
    cache.addSelector(frontend);
    cache.removeSelector(cs, user);
    expect(cache.selectorCount).toBe(1);
    cache.removeSelector(cs);
    expect(cache.selectorCount).toBe(0);
    cache.updateIdentities([{ id: 300, labels: labelsFromK8sPod('prod', { role: 'frontend' }) }]);
    expect(user.calls).toEqual([]);
  });
});
