import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../test/etcd-server.js';
import { eventually } from '../test/cluster.js';
import { HEARTBEAT_KEY, HeartbeatMonitor, startHeartbeat } from './heartbeat.js';
import { Kvstore } from './kvstore.js';

describe('kvstore heartbeat', () => {
  let etcd: EtcdServer;
  let operator: Kvstore;
  let agent: Kvstore;
  beforeAll(async () => {
    etcd = await EtcdServer.start();
    operator = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'operator' });
    agent = new Kvstore({ endpoints: etcd.endpoint, nodeName: 'agent' });
  });
  afterAll(async () => {
    await operator?.close();
    await agent?.close();
    await etcd?.destroy();
  });

  it('is written by the operator under its lease and seen by agents until it goes quiet', async () => {
    let clock = 0;
    const monitor = new HeartbeatMonitor(agent, 60_000, () => clock);
    await monitor.synced;
    expect(monitor.stale()).toBe(true);
    const stop = startHeartbeat(operator, 60_000);
    try {
      await eventually(() => monitor.lastBeat !== undefined);
      expect(monitor.stale()).toBe(false);
      const stored = await agent.get(HEARTBEAT_KEY);
      expect(Number.isNaN(Date.parse(stored!.value))).toBe(false);
      expect(stored!.lease).toBe(await operator.leaseId());
      clock += 120_001;
      expect(monitor.stale()).toBe(true);
    } finally {
      stop();
      await monitor.close();
    }
  });
});
