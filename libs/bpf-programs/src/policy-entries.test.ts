import { describe, expect, it } from 'vitest';
import { policyMapEntries, portRangeToPrefixes } from './policy-entries.js';

describe('portRangeToPrefixes', () => {
  it('covers a range exactly with aligned power-of-two blocks', () => {
    expect(portRangeToPrefixes(80, 80)).toEqual([{ port: 80, prefixLength: 16 }]);
    expect(portRangeToPrefixes(8080, 8083)).toEqual([{ port: 8080, prefixLength: 14 }]);
    expect(portRangeToPrefixes(79, 82)).toEqual([
      { port: 79, prefixLength: 16 }, { port: 80, prefixLength: 15 }, { port: 82, prefixLength: 16 },
    ]);
    expect(portRangeToPrefixes(0, 65535)).toEqual([{ port: 0, prefixLength: 0 }]);
  });

  it('covers every port of a range and nothing else', () => {
    const blocks = portRangeToPrefixes(1000, 2047 + 13);
    const covered = new Set<number>();
    for (const b of blocks) for (let p = b.port; p < b.port + 2 ** (16 - b.prefixLength); p++) covered.add(p);
    expect(Math.min(...covered)).toBe(1000);
    expect(Math.max(...covered)).toBe(2060);
    expect(covered.size).toBe(1061);
  });

  it('rejects an inverted range', () => {
    expect(() => portRangeToPrefixes(90, 80)).toThrow(/port range 90-80/);
  });
});

describe('policyMapEntries', () => {
  it('turns a narrower allow of the same identity into a deny when a broader deny covers it', () => {
    const entries = policyMapEntries([
      { identity: 300, direction: 'ingress', protocol: 6, port: 80 },
      { identity: 300, direction: 'ingress', protocol: 6, deny: true },
      { identity: 301, direction: 'ingress', protocol: 6, port: 80 },
    ]);
    expect(entries).toContainEqual({ key: { identity: 300, direction: 'ingress', protocol: 6, port: 80, portPrefixLength: 16 }, entry: { deny: true } });
    expect(entries).toContainEqual({ key: { identity: 301, direction: 'ingress', protocol: 6, port: 80, portPrefixLength: 16 }, entry: {} });
  });

  it('keeps the proxy port of an L7 allow', () => {
    expect(policyMapEntries([{ identity: 0, direction: 'egress', protocol: 6, port: 80, proxyPort: 15001 }])).toEqual([
      { key: { identity: 0, direction: 'egress', protocol: 6, port: 80, portPrefixLength: 16 }, entry: { proxyPort: 15001 } },
    ]);
  });
});
