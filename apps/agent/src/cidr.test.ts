import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, parseCidr, parseIp } from './cidr.js';

describe('cidr', () => {
  it('parses an IPv4 pod CIDR into its network and size', () => {
    const c = parseCidr('10.0.1.0/24');
    expect(c).toMatchObject({ family: 4, prefixLength: 24, size: 256n, text: '10.0.1.0/24' });
    expect(formatIp(c.network + 1n, 4)).toBe('10.0.1.1');
  });

  it('parses IPv6 and prints addresses in their short form', () => {
    const c = parseCidr('fd00:10::/112');
    expect(c.size).toBe(65536n);
    expect(formatIp(c.network + 2n, 6)).toBe('fd00:10::2');
  });

  it('rejects host bits, naming the network that was probably meant', () => {
    expect(() => parseCidr('10.0.1.5/24')).toThrow('did you mean 10.0.1.0/24');
    expect(() => parseCidr('10.0.1.0')).toThrow('not a CIDR');
  });

  it('tells whether an address is inside a prefix', () => {
    const c = parseCidr('10.0.1.0/24');
    expect(cidrContains(c, '10.0.1.200')).toBe(true);
    expect(cidrContains(c, '10.0.2.1')).toBe(false);
    expect(cidrContains(c, 'fd00::1')).toBe(false);
    expect(parseIp('10.0.0.1').value).toBe(0x0a000001n);
  });
});
