import { describe, expect, it } from 'vitest';
import { formatMonitorLine, type MonitorFlow } from './monitor-command.js';

// Flows as the agent streams them (Hubble JSON), and the monitor lines a person reads.
const tcp = { TCP: { source_port: 44228, destination_port: 8080, flags: { SYN: true } } };
const ip = { source: '10.244.2.3', destination: '10.244.2.2' };

describe('cilium monitor lines', () => {
  it('prints a policy drop with its reason, endpoint, identities and packet', () => {
    const f: MonitorFlow = {
      event_type: { type: 1, sub_type: 133 },
      drop_reason_desc: 'POLICY_DENIED',
      source: { identity: 48881 },
      destination: { ID: 1, identity: 44291 },
      interface: { index: 7 },
      IP: ip,
      l4: tcp,
    };
    expect(formatMonitorLine(f)).toBe('xx drop (Policy denied) to endpoint 1, ifindex 7, identity 48881->44291: 10.244.2.3:44228 -> 10.244.2.2:8080 tcp SYN');
  });

  it('names a drop by a deny rule as upstream does', () => {
    expect(formatMonitorLine({ event_type: { type: 1 }, drop_reason_desc: 'POLICY_DENY', IP: ip, l4: tcp })).toMatch(/^xx drop \(Policy denied by denylist\)/);
  });

  it('prints a policy verdict from the side of the local endpoint', () => {
    const f: MonitorFlow = {
      event_type: { type: 5 },
      verdict: 'FORWARDED',
      traffic_direction: 'INGRESS',
      policy_match_type: 2,
      source: { identity: 56111 },
      destination: { ID: 3, identity: 44291 },
      IP: ip,
      l4: tcp,
    };
    expect(formatMonitorLine(f)).toBe('Policy verdict log: local EP ID 3, remote ID 56111, ingress, action allow, match L3-L4, 10.244.2.3:44228 -> 10.244.2.2:8080 tcp SYN');
  });

  it('prints a trace with its observation point and connection state', () => {
    const f: MonitorFlow = { event_type: { type: 4 }, trace_observation_point: 'TO_ENDPOINT', trace_reason: 'NEW', source: { identity: 1 }, destination: { identity: 2 }, interface: { index: 4 }, IP: ip, l4: { UDP: { source_port: 5000, destination_port: 53 } } };
    expect(formatMonitorLine(f)).toBe('-> to-endpoint flow identity 1->2 state new ifindex 4: 10.244.2.3:5000 -> 10.244.2.2:53 udp');
  });
});
