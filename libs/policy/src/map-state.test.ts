import { describe, expect, it } from 'vitest';
import type { MapStateEntry, PolicyKey, Verdict } from './index.js';
import { formatPolicyKey, lookupMapState, lookupMostSpecific } from './index.js';

const origin = { kind: 'CiliumNetworkPolicy', name: 'p', path: 'spec.ingress[0]' } as const;
function e(identity: number, protocol: number, port: number, prefixLength: number, verdict: Verdict): MapStateEntry {
  return { key: { identity, direction: 'ingress', protocol, port, prefixLength }, entry: { verdict, proxyPort: verdict === 'redirect' ? 10001 : 0, origins: [origin] } };
}

describe('lookupMapState', () => {
  const state = [e(0, 6, 80, 16, 'redirect'), e(100, 0, 0, 0, 'allow'), e(100, 6, 8080, 13, 'deny'), e(0, 17, 0, 0, 'allow')];

  it.each([
    [100, 6, 80, 'redirect', '(ANY, TCP/80, ingress)'],
    [100, 6, 22, 'allow', '(100, ANY, ingress)'],
    [100, 6, 8083, 'deny', '(100, TCP/8080/13, ingress)'],
    [100, 6, 8088, 'allow', '(100, ANY, ingress)'],
    [200, 6, 80, 'redirect', '(ANY, TCP/80, ingress)'],
    [200, 17, 53, 'allow', '(ANY, UDP/ANY, ingress)'],
    [200, 6, 22, 'none', undefined],
  ])('identity %i proto %i port %i -> %s', (id, proto, port, verdict, key) => {
    const r = lookupMapState(state, id, 'ingress', proto, port);
    expect(r.verdict).toBe(verdict);
    expect(r.match === undefined ? undefined : formatPolicyKey(r.match.key)).toBe(key);
  });

  it('lets any matching deny win, where a longest-prefix lookup would not', () => {
    const s = [e(100, 0, 0, 0, 'deny'), e(0, 6, 80, 16, 'allow')];
    expect(lookupMapState(s, 100, 'ingress', 6, 80).verdict).toBe('deny');
    expect(lookupMostSpecific(s, 100, 'ingress', 6, 80).verdict).toBe('allow');
  });

  it('formats keys as in policy-semantics.md', () => {
    const k: PolicyKey = { identity: 0, direction: 'egress', protocol: 132, port: 0, prefixLength: 0 };
    expect(formatPolicyKey(k)).toBe('(ANY, SCTP/ANY, egress)');
  });
});
