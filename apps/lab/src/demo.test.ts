import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeDemoEvent, runDatapathDemo } from './demo.js';

describe('the datapath demo (npm start, until the lab exists)', () => {
  it('counts real packets per protocol at tc ingress and reports the first ones through the ring buffer', async () => {
    const lines: string[] = [];
    const result = await runDatapathDemo((l) => lines.push(l));
    const count = (p: string) => result.counts.find((c) => c.protocol === p)!;

    // The program sits on the server's ingress, so it sees exactly what the client sent.
    expect(count('ICMP').packets).toBe(3);
    expect(count('UDP').packets).toBe(5);
    // Five TCP connections, each at least SYN, ACK, data and FIN from the client.
    expect(count('TCP').packets).toBeGreaterThanOrEqual(20);
    expect(count('TCP').bytes).toBeGreaterThan(count('TCP').packets * 40);

    // events_per_protocol was set to 2 at load time, so two events per protocol (per CPU at most).
    const protocols = result.events.map((e) => e.protocol);
    expect(protocols.filter((p) => p === 'UDP').length).toBeGreaterThanOrEqual(2);
    expect(result.events.every((e) => e.source === '10.200.0.1' && e.destination === '10.200.0.2')).toBe(true);

    // Nothing is left behind.
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toMatch(/cts-demo-/);
  });

  it('decodes struct demo_event from its wire layout', () => {
    const buf = Buffer.from([10, 200, 0, 1, 10, 200, 0, 2, 17, 0, 0, 0, 46, 0, 0, 0]);
    expect(decodeDemoEvent(buf)).toEqual({ source: '10.200.0.1', destination: '10.200.0.2', protocol: 'UDP', length: 46 });
  });
});
