import { describe, expect, it } from 'vitest';
import { Hive, startOrder, type Cell } from './cell.js';
import { HealthRegistry } from './health.js';

describe('hive of cells', () => {
  it('starts providers before their users and stops in reverse', async () => {
    const log: string[] = [];
    const cell = (name: string, provides: string[], needs: string[]): Cell => ({
      name,
      provides,
      needs,
      start: (ctx) => {
        log.push(`start ${name}`);
        for (const n of needs) expect(ctx.get(n)).toBe(`${n}-value`);
        return Object.fromEntries(provides.map((p) => [p, `${p}-value`]));
      },
      stop: () => {
        log.push(`stop ${name}`);
      },
    });
    const health = new HealthRegistry();
    const hive = new Hive([cell('api', [], ['endpoints']), cell('endpoint-manager', ['endpoints'], ['ipam']), cell('ipam', ['ipam'], [])], health);
    await hive.start();
    await hive.stop();
    expect(log).toEqual(['start ipam', 'start endpoint-manager', 'start api', 'stop api', 'stop endpoint-manager', 'stop ipam']);
    expect(health.get('ipam')).toMatchObject({ level: 'stopped', message: 'stopped' });
  });

  it('rejects a missing provider and a cycle, naming them', () => {
    expect(() => startOrder([{ name: 'api', needs: ['endpoints'], start: () => {} }])).toThrow('api needs "endpoints" but no module provides it');
    expect(() =>
      startOrder([
        { name: 'a', provides: ['x'], needs: ['y'], start: () => ({ x: 1 }) },
        { name: 'b', provides: ['y'], needs: ['x'], start: () => ({ y: 1 }) },
      ]),
    ).toThrow('dependency cycle: a -> b -> a');
  });

  it('stops what it started when a later cell fails, and reports the failure as its health', async () => {
    const stopped: string[] = [];
    const health = new HealthRegistry();
    const hive = new Hive(
      [
        { name: 'ipam', provides: ['ipam'], start: () => ({ ipam: 1 }), stop: () => void stopped.push('ipam') },
        {
          name: 'datapath',
          needs: ['ipam'],
          start: () => {
            throw new Error('bpffs is not mounted');
          },
        },
      ],
      health,
    );
    await expect(hive.start()).rejects.toThrow('starting datapath: bpffs is not mounted');
    expect(stopped).toEqual(['ipam']);
    expect(health.get('datapath')).toMatchObject({ level: 'stopped', message: 'start failed: bpffs is not mounted' });
  });

  it('keeps a health level a module set while starting', async () => {
    const health = new HealthRegistry();
    const hive = new Hive([{ name: 'kvstore', start: (ctx) => ctx.health.degraded('no kvstore-endpoints configured') }], health);
    await hive.start();
    expect(health.failing().map((h) => h.module)).toEqual(['kvstore']);
  });
});
