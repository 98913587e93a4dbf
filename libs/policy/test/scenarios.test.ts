// The reference scenarios of policy-semantics.md (S-1..S-19), one block each.
import { describe, expect, it } from 'vitest';
import { AuthType, formatPolicyKey, Proto } from '../src/index.js';
import { BAR, bar, entries, foo, FOO, fooPolicy, sel } from './scenario-helpers.js';

const port80 = [{ ports: [{ port: '80', protocol: 'TCP' }] }];
const http = (method: string, path: string) => [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { http: [{ method, path }] } }];

describe('S-1 L3 wildcarding, three spellings', () => {
  it('(a) fromEndpoints [{}] with 80/TCP allows ANY on TCP/80', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, ingress: [{ fromEndpoints: [{}], toPorts: port80 }] }]);
    expect(entries(policy.mapState)).toContain('(ANY, TCP/80, ingress) allow');
    expect(entries(policy.mapState).filter((e) => e.endsWith('ingress) allow'))).toEqual(['(ANY, TCP/80, ingress) allow']);
  });
  it('(b) fromEndpoints [] selects nothing, the endpoint stays isolated', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, ingress: [{ fromEndpoints: [], toPorts: port80 }] }]);
    expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow']);
    expect(policy.enforcement).toEqual({ ingress: true, egress: false });
  });
  it('(c) no fromEndpoints at all is the same as (a)', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, ingress: [{ toPorts: port80 }] }]);
    expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow', '(ANY, TCP/80, ingress) allow']);
  });
});

describe('S-2 wildcard port', () => {
  it('port 0 is every TCP port; no toPorts is every port and protocol', () => {
    const a = fooPolicy([{ endpointSelector: foo, ingress: [{ toPorts: [{ ports: [{ port: '0', protocol: 'TCP' }] }] }] }]);
    expect(entries(a.policy.mapState)).toContain('(ANY, TCP/ANY, ingress) allow');
    const b = fooPolicy([{ endpointSelector: foo, ingress: [{ fromEndpoints: [{}] }] }]);
    expect(entries(b.policy.mapState)).toContain('(ANY, ANY, ingress) allow');
  });
  it('an ingress rule {} selects nothing but turns on default deny', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, ingress: [{}] }]);
    expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow']);
    expect(policy.enforcement.ingress).toBe(true);
    expect(policy.lookup(BAR, 'ingress', Proto.tcp, 80).verdict).toBe('none');
  });
});

describe('S-3 allows are a union, independent of order', () => {
  it('gives one key per peer', () => {
    const r1 = { endpointSelector: foo, ingress: [{ fromEndpoints: [foo] }] };
    const r2 = { endpointSelector: foo, ingress: [{ fromEndpoints: [bar] }] };
    const want = ['(100, ANY, ingress) allow', '(200, ANY, ingress) allow', '(ANY, ANY, egress) allow'];
    expect(entries(fooPolicy([r1, r2]).policy.mapState)).toEqual(want);
    expect(entries(fooPolicy([r2, r1]).policy.mapState)).toEqual(want);
  });
});

describe('S-4 L3 plus L3L4 for the same peer', () => {
  it('keeps both keys', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ fromEndpoints: [foo] }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [foo], toPorts: port80 }] },
    ]);
    expect(entries(policy.mapState)).toEqual(['(100, ANY, ingress) allow', '(100, TCP/80, ingress) allow', '(ANY, ANY, egress) allow']);
  });
});

describe('S-5 a more general L4 suppresses an identical L3L4', () => {
  it('keeps only the ANY key', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ fromEndpoints: [foo], toPorts: port80 }] },
      { endpointSelector: foo, ingress: [{ toPorts: port80 }] },
    ]);
    expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow', '(ANY, TCP/80, ingress) allow']);
  });
});

describe('S-6 L7 on the L4 wildcard wins the redirect', () => {
  it('suppresses the plain L3L4 key so foo also goes through the proxy', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ toPorts: http('GET', '/') }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [foo], toPorts: port80 }] },
    ]);
    expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow', '(ANY, TCP/80, ingress) redirect']);
    const l7 = policy.l7.find((p) => p.port === 80);
    expect(l7?.perSelector.map((s) => [s.selector, s.rules.rules])).toEqual([
      ['&LabelSelector{}', [{ method: 'GET', path: '/' }]],
      ['k8s:foo=', [{}]],
    ]);
  });
  it('(#18) keeps both keys when only the L3L4 rule has L7', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ toPorts: port80 }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [foo], toPorts: http('GET', '/') }] },
    ]);
    expect(entries(policy.mapState)).toEqual([
      '(100, TCP/80, ingress) redirect',
      '(ANY, ANY, egress) allow',
      '(ANY, TCP/80, ingress) allow',
    ]);
    expect(policy.mapState.get({ identity: FOO, direction: 'ingress', protocol: 6, port: 80, prefixLength: 16 })?.proxyPort).toBe(10001);
  });
});

describe('S-7 shadowed L7', () => {
  it('redirects with the HTTP rules [GET /, {}] in either order', () => {
    for (const order of [0, 1]) {
      const rules = [
        { endpointSelector: foo, ingress: [{ toPorts: port80 }] },
        { endpointSelector: foo, ingress: [{ toPorts: http('GET', '/') }] },
      ];
      if (order === 1) rules.reverse();
      const { policy } = fooPolicy(rules);
      expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow', '(ANY, TCP/80, ingress) redirect']);
      expect(policy.l7).toHaveLength(1);
      expect(policy.l7[0]?.perSelector[0]?.rules.rules).toEqual([{ method: 'GET', path: '/' }, {}]);
    }
  });
});

describe('S-8 deny beats allow across specificity', () => {
  it('adds the dependent (100, TCP/80) deny', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingressDeny: [{ fromEndpoints: [foo] }] },
      { endpointSelector: foo, ingress: [{ toPorts: port80 }] },
    ]);
    expect(entries(policy.mapState)).toEqual([
      '(100, ANY, ingress) deny',
      '(100, TCP/80, ingress) deny',
      '(ANY, ANY, egress) allow',
      '(ANY, TCP/80, ingress) allow',
    ]);
    expect(policy.lookup(FOO, 'ingress', 6, 80).verdict).toBe('deny');
    expect(policy.lookup(BAR, 'ingress', 6, 80).verdict).toBe('allow');
  });
  it('deny L3L4 with allow L3: every port but 80', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingressDeny: [{ fromEndpoints: [foo], toPorts: port80 }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [foo] }] },
    ]);
    expect(entries(policy.mapState)).toEqual(['(100, ANY, ingress) allow', '(100, TCP/80, ingress) deny', '(ANY, ANY, egress) allow']);
    expect(policy.lookup(FOO, 'ingress', 6, 81).verdict).toBe('allow');
    expect(policy.lookup(FOO, 'ingress', 6, 80).verdict).toBe('deny');
  });
});

describe('S-9 deny on a CIDR superset', () => {
  const W = 2;
  const cidrIds = (engine: ReturnType<typeof fooPolicy>['engine']) => ({
    S: engine.cidrIdentity('192.0.2.0/24')!,
    I: engine.cidrIdentity('192.0.2.3/32')!,
  });
  it('A: deny world + allow /24 denies every identity', () => {
    const { engine, policy } = fooPolicy([
      { endpointSelector: foo, egressDeny: [{ toEntities: ['world'] }] },
      { endpointSelector: foo, egress: [{ toCIDR: ['192.0.2.0/24'] }] },
      { endpointSelector: foo, egress: [{ toCIDR: ['192.0.2.3/32'], toPorts: [{ ports: [{ port: '1', protocol: 'UDP' }] }] }] },
    ]);
    const { S, I } = cidrIds(engine);
    for (const id of [W, S, I]) expect(policy.lookup(id, 'egress', 6, 443).verdict).toBe('deny');
    expect(entries(policy.mapState).filter((e) => e.includes('egress) allow'))).toEqual([]);
  });
  it('B: deny /32 + allow /24 denies I and allows S; the L4 allow for I is left out', () => {
    const { engine, policy } = fooPolicy([
      { endpointSelector: foo, egressDeny: [{ toCIDR: ['192.0.2.3/32'] }] },
      { endpointSelector: foo, egress: [{ toCIDR: ['192.0.2.0/24'], toPorts: port80 }] },
    ]);
    const { S, I } = cidrIds(engine);
    expect(entries(policy.mapState)).toEqual([`(${I}, ANY, egress) deny`, `(${S}, TCP/80, egress) allow`, '(ANY, ANY, ingress) allow']);
    expect(policy.lookup(I, 'egress', 6, 80).verdict).toBe('deny');
    expect(policy.lookup(S, 'egress', 6, 80).verdict).toBe('allow');
  });
  it('two denies never remove each other', () => {
    const { engine, policy } = fooPolicy([
      { endpointSelector: foo, egressDeny: [{ toCIDR: ['192.0.2.3/32'] }] },
      { endpointSelector: foo, egressDeny: [{ toCIDR: ['192.0.2.0/24'], toPorts: port80 }] },
    ]);
    const { S, I } = cidrIds(engine);
    expect(entries(policy.mapState)).toEqual(
      [`(${I}, ANY, egress) deny`, `(${I}, TCP/80, egress) deny`, `(${S}, TCP/80, egress) deny`, '(ANY, ANY, ingress) allow'].sort(),
    );
  });
});

describe('S-10 CIDR with except', () => {
  it('selects prefixes inside the CIDR and outside the except', () => {
    const { engine, policy } = fooPolicy(
      [{ endpointSelector: foo, egress: [{ toCIDRSet: [{ cidr: '1.0.0.0/24', except: ['1.0.0.4/30'] }] }] }],
      {
        identities: ['1.0.0.0/25', '1.0.0.1/32', '1.0.0.4/32', '1.0.0.5/32', '2.0.0.0/24'].map((c, i) => ({
          id: 16777300 + i,
          labels: [{ source: 'cidr', key: c, value: '' }, { source: 'reserved', key: 'world', value: '' }],
        })),
      },
    );
    const allowed = (id: number) => policy.lookup(id, 'egress', 6, 1).verdict;
    expect(allowed(engine.cidrIdentity('1.0.0.0/24')!)).toBe('allow');
    expect(allowed(16777300)).toBe('allow');
    expect(allowed(16777301)).toBe('allow');
    expect(allowed(engine.cidrIdentity('1.0.0.4/30')!)).toBe('none');
    expect(allowed(16777302)).toBe('none');
    expect(allowed(16777303)).toBe('none');
    expect(allowed(16777304)).toBe('none');
  });
});

describe('S-11 0.0.0.0/0 and ::/0', () => {
  const both = [{ endpointSelector: foo, egress: [{ toCIDR: ['0.0.0.0/0'] }] }];
  it('single stack: 0.0.0.0/0 selects reserved:world', () => {
    const { policy } = fooPolicy(both);
    expect(policy.lookup(2, 'egress', 6, 1).verdict).toBe('allow');
  });
  it('dual stack: 0.0.0.0/0 selects world-ipv4, not world; both prefixes select all three', () => {
    const a = fooPolicy(both, { dualStack: true });
    expect(a.policy.lookup(9, 'egress', 6, 1).verdict).toBe('allow');
    expect(a.policy.lookup(2, 'egress', 6, 1).verdict).toBe('none');
    expect(a.policy.lookup(10, 'egress', 6, 1).verdict).toBe('none');
    const b = fooPolicy([{ endpointSelector: foo, egress: [{ toCIDR: ['0.0.0.0/0', '::/0'] }] }], { dualStack: true });
    for (const id of [2, 9, 10]) expect(b.policy.lookup(id, 'egress', 6, 1).verdict).toBe('allow');
  });
});

describe('S-12 entities', () => {
  const reach = (entity: string, id: number) =>
    fooPolicy([{ endpointSelector: foo, egress: [{ toEntities: [entity] }] }]).policy.lookup(id, 'egress', 6, 1).verdict;
  it.each([
    ['all', 2, 'allow'],
    ['all', 123456, 'allow'],
    ['world', 2, 'allow'],
    ['world', 1, 'none'],
    ['host', 1, 'allow'],
    ['host', 6, 'none'],
    ['cluster', 1, 'allow'],
    ['cluster', 5, 'allow'],
    ['cluster', 4, 'allow'],
    ['cluster', 3, 'allow'],
    ['cluster', 2, 'none'],
    ['none', 2, 'none'],
    ['none', 1, 'none'],
  ])('%s -> identity %i: %s', (entity, id, want) => {
    expect(reach(entity, id)).toBe(want);
  });
  it('cluster includes endpoints of the local cluster; [host, world] is the union', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, egress: [{ toEntities: ['cluster'] }] }], {
      identities: [{ id: 300, labels: [{ source: 'k8s', key: 'io.cilium.k8s.policy.cluster', value: 'default' }] }],
    });
    expect(policy.lookup(300, 'egress', 6, 1).verdict).toBe('allow');
    const u = fooPolicy([{ endpointSelector: foo, egress: [{ toEntities: ['host', 'world'] }] }]).policy;
    expect([u.lookup(1, 'egress', 6, 1).verdict, u.lookup(2, 'egress', 6, 1).verdict]).toEqual(['allow', 'allow']);
  });
  it('remote-node selects the remote-node identity', () => {
    expect(reach('remote-node', 6)).toBe('allow');
  });
});

describe('S-13 named ports', () => {
  const named = [{ ports: [{ port: 'port-80', protocol: 'TCP' }] }];
  it('resolves like the numeric port', () => {
    const { policy } = fooPolicy(
      [
        { endpointSelector: foo, ingress: [{ fromEndpoints: [foo], toPorts: named }] },
        { endpointSelector: foo, ingress: [{ toPorts: named }] },
      ],
      { namedPorts: [{ name: 'port-80', port: 80, protocol: 'TCP' }] },
    );
    expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow', '(ANY, TCP/80, ingress) allow']);
  });
  it('a named port the endpoint lacks gives no key', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, ingress: [{ toPorts: named }] }]);
    expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow']);
  });
  it('egress names resolve against the node-wide named ports', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, egress: [{ toEndpoints: [bar], toPorts: named }] }], {
      nodeNamedPorts: [{ name: 'port-80', port: 8080, protocol: 'TCP' }],
      namedPorts: [{ name: 'port-80', port: 80, protocol: 'TCP' }],
    });
    expect(entries(policy.mapState)).toEqual(['(200, TCP/8080, egress) allow', '(ANY, ANY, ingress) allow']);
  });
});

describe('S-14 port ranges in map state', () => {
  it('installs masked port prefixes for endPort', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ toPorts: [{ ports: [{ port: '5', endPort: 10, protocol: 'TCP' }] }] }] },
    ]);
    expect(entries(policy.mapState)).toEqual([
      '(ANY, ANY, egress) allow',
      '(ANY, TCP/10, ingress) allow',
      '(ANY, TCP/5, ingress) allow',
      '(ANY, TCP/6/15, ingress) allow',
      '(ANY, TCP/8/15, ingress) allow',
    ]);
    expect([4, 5, 7, 9, 10, 11].map((p) => policy.lookup(BAR, 'ingress', 6, p).verdict)).toEqual([
      'none', 'allow', 'allow', 'allow', 'allow', 'none',
    ]);
  });
});

describe('S-15 conflicting L7 parsers', () => {
  it('rejects HTTP and Kafka on one port and selector', () => {
    expect(() =>
      fooPolicy([
        { endpointSelector: foo, ingress: [{ toPorts: http('GET', '/') }] },
        { endpointSelector: foo, ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { kafka: [{ topic: 't' }] } }] }] },
      ]),
    ).toThrow(/cannot merge conflicting L7 parsers \(http in CiliumNetworkPolicy rule0 spec.ingress\[0\] and kafka\) on TCP\/80/);
  });
  it('accepts different parsers on different selectors, and merges identical rules', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ toPorts: http('GET', '/') }] },
      { endpointSelector: foo, ingress: [{ toPorts: http('GET', '/') }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [bar], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { kafka: [{ topic: 't' }] } }] }] },
    ]);
    expect(policy.errors).toEqual([]);
    expect(policy.l7[0]?.perSelector[0]?.rules.rules).toEqual([{ method: 'GET', path: '/' }]);
  });
  it('reports a conflict between different selectors that both select the endpoint', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ toPorts: http('GET', '/') }] },
      { endpointSelector: sel('k8s:blue'), ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }], rules: { kafka: [{ topic: 't' }] } }] }] },
    ]);
    expect(policy.errors).toEqual(['cannot merge conflicting L7 parsers (http and kafka) on (ANY, TCP/80, ingress) for selector &LabelSelector{}']);
  });
});

describe('S-16 distinct selectors with the same L7', () => {
  it('gives one filter with two per-selector entries and no wildcard', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ fromEndpoints: [foo], toPorts: http('GET', '/') }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [bar], toPorts: http('GET', '/') }] },
    ]);
    expect(entries(policy.mapState)).toEqual(['(100, TCP/80, ingress) redirect', '(200, TCP/80, ingress) redirect', '(ANY, ANY, egress) allow']);
    expect(policy.l7[0]?.perSelector.map((s) => s.selector)).toEqual(['k8s:foo=', 'k8s:bar=']);
  });
});

describe('S-17 host always allowed at L7', () => {
  it('adds a plain allow for the host next to the wildcard redirect', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, ingress: [{ toPorts: http('GET', '/') }] }], { allowLocalhost: 'always' });
    expect(entries(policy.mapState)).toEqual([
      '(1, ANY, ingress) allow',
      '(1, TCP/80, ingress) allow',
      '(ANY, ANY, egress) allow',
      '(ANY, TCP/80, ingress) redirect',
    ]);
  });
});

describe('S-18 default-allow mode with L7', () => {
  it('keeps everything else allowed and adds a wildcard DNS rule', () => {
    const { policy } = fooPolicy([
      {
        endpointSelector: foo,
        enableDefaultDeny: { egress: false },
        egress: [{ toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }], rules: { dns: [{ matchPattern: 'example.com' }] } }] }],
      },
    ]);
    expect(policy.enforcement.egress).toBe(false);
    expect(entries(policy.mapState)).toEqual(['(ANY, ANY, egress) allow', '(ANY, ANY, ingress) allow', '(ANY, UDP/53, egress) redirect']);
    expect(policy.l7[0]?.perSelector[0]?.rules.rules).toEqual([{ matchPattern: 'example.com' }, { matchPattern: '*' }]);
  });
  it('deny rules do not get the wildcard', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, enableDefaultDeny: { egress: false }, egressDeny: [{ toEndpoints: [bar] }] }]);
    expect(policy.lookup(BAR, 'egress', 6, 1).verdict).toBe('deny');
    expect(policy.lookup(FOO, 'egress', 6, 1).verdict).toBe('allow');
  });
});

describe('S-19 enforcement switch', () => {
  it('default mode: unselected endpoints are unenforced', () => {
    const { policy } = fooPolicy([{ endpointSelector: bar, ingress: [{}] }]);
    expect(policy.enforcement).toEqual({ ingress: false, egress: false });
  });
  it('a deny-only ingress rule turns ingress enforcement on, egress stays open', () => {
    const { policy } = fooPolicy([{ endpointSelector: foo, ingressDeny: [{ fromEndpoints: [bar] }] }]);
    expect(policy.enforcement).toEqual({ ingress: true, egress: false });
    expect(policy.lookup(FOO, 'ingress', 6, 1).verdict).toBe('none');
  });
  it('always mode enforces with zero rules; never mode enforces nothing', () => {
    expect(fooPolicy([], { enforcementMode: 'always' }).policy.enforcement).toEqual({ ingress: true, egress: true });
    const never = fooPolicy([{ endpointSelector: foo, ingressDeny: [{ fromEndpoints: [bar] }] }], { enforcementMode: 'never' });
    expect(never.policy.enforcement).toEqual({ ingress: false, egress: false });
    expect(never.policy.lookup(BAR, 'ingress', 6, 1).verdict).toBe('allow');
  });
  it('reserved:init endpoints are always enforced in default mode', () => {
    const { engine } = fooPolicy([]);
    const { policy } = engine.upsertEndpoint(2, [{ source: 'reserved', key: 'init', value: '' }]);
    expect(policy.enforcement).toEqual({ ingress: true, egress: true });
    expect(policy.mapState.size).toBe(0);
  });
});

describe('S-20 mutual-auth propagation', () => {
  it('keeps the auth of the most specific rule and adds the dependent key for bar on port 80', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ toPorts: port80, authentication: { mode: 'required' } }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [bar], authentication: { mode: 'test-always-fail' } }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [{}] }] },
    ]);
    const withAuth = [...policy.mapState].map((e) => `${formatPolicyKey(e.key)} ${e.entry.verdict} auth=${e.entry.authType ?? 0}`).sort();
    expect(withAuth).toEqual([
      '(200, ANY, ingress) allow auth=2',
      '(200, TCP/80, ingress) allow auth=2',
      '(ANY, ANY, egress) allow auth=0',
      '(ANY, ANY, ingress) allow auth=0',
      '(ANY, TCP/80, ingress) allow auth=1',
    ]);
  });

  it('an L4 key inherits the explicit auth of its identity L3 key', () => {
    const { policy } = fooPolicy([
      { endpointSelector: foo, ingress: [{ fromEndpoints: [bar], authentication: { mode: 'required' } }] },
      { endpointSelector: foo, ingress: [{ fromEndpoints: [bar], toPorts: port80 }] },
    ]);
    expect(policy.mapState.get({ identity: BAR, direction: 'ingress', protocol: 6, port: 80, prefixLength: 16 })?.authType).toBe(AuthType.spire);
  });
});
