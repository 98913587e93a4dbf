import { describe, expect, it } from 'vitest';
import { parseDport, parsePeer } from './policy-command.js';
import { parseConfigChanges } from './config-command.js';
import { resolveSocketPath } from '@cilium-ts/agent-api';

describe('command-line parsing', () => {
  it('reads explain peers as identities, labels, pods or endpoint references', () => {
    expect(parsePeer('--src', '1000')).toEqual({ identity: 1000 });
    expect(parsePeer('--src', 'k8s:app=web,k8s:tier=front')).toEqual({ labels: ['k8s:app=web', 'k8s:tier=front'] });
    expect(parsePeer('--src', 'x/a')).toEqual({ endpoint: 'pod-name:x:a' });
    expect(parsePeer('--dst', 'container-id:abc')).toEqual({ endpoint: 'container-id:abc' });
    expect(() => parsePeer('--dst', 'web')).toThrow('--dst web: expected an identity number');
  });

  it('reads ports with an optional protocol', () => {
    expect(parseDport('80/TCP')).toEqual({ dport: 80, protocol: 'TCP' });
    expect(parseDport('53/udp')).toEqual({ dport: 53, protocol: 'UDP' });
    expect(parseDport('8080')).toEqual({ dport: 8080, protocol: 'TCP' });
    expect(() => parseDport('70000/TCP')).toThrow('--dport 70000/TCP');
  });

  it('reads config changes', () => {
    expect(parseConfigChanges(['Debug=Enabled', 'PolicyEnforcement=never'])).toEqual({ options: { Debug: 'Enabled' }, 'policy-enforcement': 'never' });
    expect(() => parseConfigChanges(['PolicyEnforcement=sometimes'])).toThrow('must be default, always or never');
    expect(() => parseConfigChanges(['Debug'])).toThrow('expected Option=Value');
  });

  it('finds the socket from -H, CILIUM_SOCK or the default', () => {
    expect(resolveSocketPath('unix:///run/a.sock', { CILIUM_SOCK: '/b.sock' })).toBe('/run/a.sock');
    expect(resolveSocketPath(undefined, { CILIUM_SOCK: 'unix:///b.sock' })).toBe('/b.sock');
    expect(resolveSocketPath(undefined, {})).toBe('/var/run/cilium/cilium.sock');
    expect(() => resolveSocketPath('tcp://localhost:1', {})).toThrow('-H tcp://localhost:1: expected unix:///path/to/cilium.sock');
  });
});
