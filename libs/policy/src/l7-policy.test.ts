import { describe, expect, it } from 'vitest';
import { L7PolicyBuilder, concatL7 } from './l7-policy.js';

const origin = { kind: 'CiliumNetworkPolicy', name: 'p', path: 'spec.ingress[0]' } as const;
const port80 = { direction: 'ingress', protocol: 6, port: 80, prefixLength: 16 } as const;

describe('L7PolicyBuilder', () => {
  it('merges rules per selector and lets plain allows pass everything', () => {
    const b = new L7PolicyBuilder();
    b.addL7(port80, 'a', { type: 'http', rules: [{ method: 'GET' }] }, origin);
    b.addL7(port80, 'a', { type: 'http', rules: [{ method: 'GET' }, { method: 'PUT' }] }, origin);
    b.addPlainAllow(port80, 'b', origin);
    const [p] = b.build(() => 10001);
    expect(p?.proxyPort).toBe(10001);
    expect(p?.perSelector.map((s) => [s.selector, s.rules.rules])).toEqual([
      ['a', [{ method: 'GET' }, { method: 'PUT' }]],
      ['b', [{}]],
    ]);
  });

  it('reports a second parser on the same port and selector', () => {
    const b = new L7PolicyBuilder();
    expect(b.addL7(port80, 'a', { type: 'http', rules: [{}] }, origin)).toBeUndefined();
    expect(b.addL7(port80, 'a', { type: 'kafka', rules: [{ topic: 't' }] }, origin)).toBe('http');
  });

  it('keeps different parsers of different selectors on one port apart', () => {
    const b = new L7PolicyBuilder();
    b.addL7(port80, 'a', { type: 'http', rules: [{ method: 'GET' }] }, origin);
    expect(b.addL7(port80, 'b', { type: 'kafka', rules: [{ topic: 't' }] }, origin)).toBeUndefined();
    expect(b.build(() => 1).map((p) => [p.parser, p.perSelector.map((s) => s.selector)])).toEqual([
      ['http', ['a']],
      ['kafka', ['b']],
    ]);
  });

  it('keeps only the rules of the parser asked for', () => {
    expect(concatL7('dns', [{ type: 'dns', rules: [{ matchName: 'a.com' }] }, { type: 'http', rules: [{}] }])).toEqual({
      type: 'dns',
      rules: [{ matchName: 'a.com' }],
    });
  });
});
