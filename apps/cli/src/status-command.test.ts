import { describe, expect, it } from 'vitest';
import type { StatusResponse } from '@cilium-ts/agent-api';
import { formatStatus } from './status-command.js';

const status: StatusResponse = {
  cilium: { state: 'Warning', msg: 'degraded: ipcache-sync: ipcache: 1 object(s) failing' },
  kvstore: { state: 'Ok', msg: 'etcd: 1/1 connected' },
  kubernetes: { state: 'Disabled', msg: 'not using Kubernetes' },
  cluster: { self: 'default/node-1', nodes: [] },
  controllers: [
    { name: 'api', status: { 'consecutive-failure-count': 0 } },
    { name: 'ipcache-sync', status: { 'consecutive-failure-count': 1, 'last-failure-msg': 'x' } },
  ],
  ipam: { allocations: { '10.0.1.2': 'x/a' }, ipv4: ['10.0.1.2'], ipv6: [], status: 'IPv4: 1/253 allocated from 10.0.1.0/24' },
  hubble: { state: 'Disabled', msg: 'not wired' },
  'host-routing': { mode: 'Legacy' },
  routing: { mode: 'native' },
  'policy-enforcement': 'default',
  'endpoint-count': 1,
  modules: [
    { module: 'api', level: 'ok', message: 'serving', since: '' },
    { module: 'ipcache-sync', level: 'degraded', message: 'ipcache: 1 object(s) failing', since: '' },
  ],
};

describe('status output', () => {
  it('counts healthy controllers and always names failing modules', () => {
    const text = formatStatus(status, false);
    expect(text).toMatch(/^Controller Status:\s+1\/2 healthy$/m);
    expect(text).toMatch(/^Routing:\s+Network: Native\s+Host: Legacy$/m);
    expect(text).toContain('Failing modules:\n  ipcache-sync: degraded: ipcache: 1 object(s) failing');
  });

  it('lists allocations and every module when verbose', () => {
    const text = formatStatus(status, true);
    expect(text).toContain('Allocated addresses:\n  10.0.1.2 (x/a)');
    expect(text).toMatch(/^ {2}api\s+ok\s+serving$/m);
  });
});
