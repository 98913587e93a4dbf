import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from './daemon.js';
import { labPaths } from './lab-paths.js';
import { createNode, createSwitch, destroyLab, etcdEndpoint, labNamespaces, startEtcd } from './lab-network.js';

// A lab of its own name, so the test never meets a lab a person has running.
const paths = labPaths(`t${randomBytes(2).toString('hex')}`);

describe('the lab network: switch, nodes on the underlay, etcd, and down', () => {
  afterAll(() => destroyLab(paths));

  it('joins nodes over the underlay, serves etcd to them, and down removes every trace', async () => {
    const sw = await createSwitch(paths);
    const n1 = await createNode(paths, sw, 'node-1', 0);
    const n2 = await createNode(paths, sw, 'node-2', 1);
    const etcdPid = await startEtcd(paths, sw);

    execFileSync('ip', ['netns', 'exec', n1.netns, 'ping', '-c', '1', '-W', '1', n2.underlayIp]);
    const health = execFileSync('ip', ['netns', 'exec', n2.netns, 'etcdctl', '--endpoints', etcdEndpoint(), 'endpoint', 'health', '-w', 'json']).toString();
    expect(JSON.parse(health)).toMatchObject([{ health: true }]);
    // The lab has no way out: a node has no default route.
    expect(execFileSync('ip', ['-n', n1.netns, 'route', 'show', 'default']).toString()).toBe('');

    await destroyLab(paths);
    expect(await labNamespaces(paths)).toEqual([]);
    expect(isAlive(etcdPid)).toBe(false);
    expect(existsSync(paths.runDir)).toBe(false);
  });

  it('down is safe on a lab that was never made or is half made', async () => {
    await expect(destroyLab(paths)).resolves.toBeUndefined();
    await createSwitch(paths);
    await destroyLab(paths);
    expect(await labNamespaces(paths)).toEqual([]);
  });
});
