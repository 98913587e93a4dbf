import { describe, expect, it } from 'vitest';
import { decodeCtKey, encodeCtKey } from './conntrack.js';
import { decodeEndpointInfo, encodeEndpointInfo } from './endpoint.js';
import { decodeIpcacheKey, decodeIpcacheValue, encodeIpcacheKey, encodeIpcacheValue } from './ipcache.js';
import { decodePolicyKey, encodePolicyEntry, encodePolicyKey } from './policy.js';

describe('codecs', () => {
  it('ipcache keys carry the LPM prefix after the 32 static bits', () => {
    const key = encodeIpcacheKey({ cidr: '10.1.0.0/16' });
    expect(key.readUInt32LE(0)).toBe(48);
    expect(decodeIpcacheKey(key)).toEqual({ cidr: '10.1.0.0/16', clusterId: 0 });
    expect(decodeIpcacheKey(encodeIpcacheKey({ cidr: 'fd00::1' }))).toEqual({ cidr: 'fd00::1/128', clusterId: 0 });
    expect(decodeIpcacheValue(encodeIpcacheValue({ identity: 1234, tunnelEndpoint: '192.168.0.2' }))).toEqual({
      identity: 1234, tunnelEndpoint: '192.168.0.2',
    });
  });

  it('policy keys mask the port to its prefix length', () => {
    const key = encodePolicyKey({ identity: 7, direction: 'egress', protocol: 6, port: 8083, portPrefixLength: 14 });
    expect(key.readUInt8(8)).toBe(16 + 14);
    expect(key.readUInt16BE(6)).toBe(8080);
    expect(decodePolicyKey(key)).toEqual({ identity: 7, direction: 'egress', protocol: 6, port: 8080, portPrefixLength: 14 });
    expect(encodePolicyEntry({ identity: 0, direction: 'ingress' }, { deny: true }).readUInt8(3)).toBe(8);
    expect(() => encodePolicyKey({ identity: 0, direction: 'ingress', port: 80 })).toThrow(/needs a protocol/);
  });

  it('conntrack and endpoint codecs round-trip', () => {
    const t = { saddr: 'fd00::1', daddr: 'fd00::2', sport: 1000, dport: 80, protocol: 6, scope: 'ingress' as const };
    expect(decodeCtKey(encodeCtKey(t))).toEqual(t);
    const ep = { ifindex: 5, endpointId: 42, mac: '02:00:00:00:00:01', nodeMac: '02:00:00:00:00:02', identity: 300, flags: 0 };
    expect(decodeEndpointInfo(encodeEndpointInfo(ep))).toEqual(ep);
  });

  it('names the bad input', () => {
    expect(() => encodeIpcacheKey({ cidr: '10.0.0.0/33' })).toThrow(/prefix "10.0.0.0\/33"/);
  });
});
