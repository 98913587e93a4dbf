import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAgentTables } from './agent-tables.js';
import { parseCidr } from './cidr.js';
import { EndpointManager, normalizeLabels } from './endpoint-manager.js';
import { Ipam } from './ipam.js';
import { DatapathLoaderDouble, IdentityAllocatorDouble, PolicyResolverDouble } from './testing/seam-doubles.js';

describe('endpoint manager', () => {
  let stateDir: string;
  const managers: EndpointManager[] = [];
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'agent-ep-'));
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  let mode: 'default' | 'always' | 'never' = 'default';
  async function setup() {
    const tables = createAgentTables();
    const identity = new IdentityAllocatorDouble();
    const policy = new PolicyResolverDouble();
    const datapath = new DatapathLoaderDouble();
    const ipam = await Ipam.open({ podCIDR: parseCidr('10.0.1.0/24'), stateDir });
    const outcomes: string[] = [];
    const manager = new EndpointManager({
      stateDir,
      tables,
      identity,
      policy,
      datapath,
      ipam,
      nodeIP: '192.168.0.1',
      retryBaseMs: 1,
      policyEnforcement: () => mode,
      onRegeneration: (o) => outcomes.push(o),
    });
    managers.push(manager);
    return { tables, identity, policy, datapath, ipam, manager, outcomes };
  }

  it('creates an endpoint and regenerates it through identity, policy, datapath and ipcache', async () => {
    const { manager, datapath, tables, identity, outcomes } = await setup();
    const ep = await manager.create(
      { containerId: 'c1', namespace: 'x', podName: 'a', labels: ['k8s:app=web'], ipv4: '10.0.1.2', interfaceName: 'lxc1', interfaceIndex: 12 },
      { wait: true },
    );
    expect(ep).toMatchObject({ id: 1, state: 'ready', identity: 1000, policyRevision: 1, policyEnabled: 'none', attached: true });
    expect(datapath.calls).toEqual(['attach 1', 'writePolicy 1 (0)']);
    expect(tables.ipcache.get('10.0.1.2/32')).toEqual({ prefix: '10.0.1.2/32', identity: 1000, source: 'endpoint', hostIP: '192.168.0.1', namespace: 'x', podName: 'a' });
    expect(identity.refs.get(1000)).toBe(1);
    expect(outcomes).toEqual(['success']);
    expect(ep.log.map((l) => l.state)).toEqual(['ready', 'regenerating', 'waiting-for-identity', 'waiting-for-identity']);
  });

  it('finds endpoints by id, container id and pod name, and rejects duplicates', async () => {
    const { manager } = await setup();
    await manager.create({ containerId: 'c1', namespace: 'x', podName: 'a', labels: ['app=web'], ipv4: '10.0.1.2' }, { wait: true });
    expect(manager.find({ kind: 'container-id', containerId: 'c1' })?.id).toBe(1);
    expect(manager.find({ kind: 'pod-name', namespace: 'x', podName: 'a' })?.id).toBe(1);
    await expect(manager.create({ containerId: 'c1', labels: [] })).rejects.toMatchObject({ reason: 'exists' });
    await expect(manager.create({ containerId: 'c2', labels: [], ipv4: '10.0.1.2' })).rejects.toThrow('IP 10.0.1.2 is already used by endpoint 1');
    await expect(manager.create({ id: 1, labels: [] })).rejects.toThrow('endpoint 1 already exists');
    await expect(manager.create({ labels: ['bad label'] })).rejects.toThrow('labels[0]: "bad label" is not a label');
  });

  it('shows waiting-for-identity while the identity is being allocated', async () => {
    const { manager, identity } = await setup();
    let open!: () => void;
    identity.gate = new Promise((r) => (open = r));
    await manager.create({ labels: ['app=web'] });
    await vi.waitFor(() => expect(manager.get(1)?.state).toBe('waiting-for-identity'));
    open();
    await manager.regenerate(1, 'test');
    expect(manager.get(1)?.state).toBe('ready');
  });

  it('moves to a new identity when labels change and releases the old one', async () => {
    const { manager, identity, tables } = await setup();
    await manager.create({ labels: ['k8s:app=web', 'k8s:tier=front'], ipv4: '10.0.1.2' }, { wait: true });
    const ep = await manager.updateLabels({ kind: 'id', id: 1 }, { add: ['k8s:app=api'], delete: ['k8s:tier'] });
    expect(ep.labels).toEqual(['k8s:app=api']);
    expect(ep.identity).toBe(1001);
    expect(identity.refs.has(1000)).toBe(false);
    expect(tables.ipcache.get('10.0.1.2/32')?.identity).toBe(1001);
    expect(tables.identities.list()).toEqual([{ id: 1001, labels: ['k8s:app=api'], refCount: 1 }]);
  });

  it('moves the ipcache entry when a patch changes the address', async () => {
    const { manager, tables } = await setup();
    await manager.create({ labels: ['app=web'], ipv4: '10.0.1.2' }, { wait: true });
    await manager.patch({ kind: 'id', id: 1 }, { ipv4: '10.0.1.3' }, { wait: true });
    expect(tables.ipcache.list().map((e) => e.prefix)).toEqual(['10.0.1.3/32']);
  });

  it('regenerates on policy changes and records the enforced revision and entries', async () => {
    const { manager, policy, datapath } = await setup();
    await manager.create({ labels: ['app=web'] }, { wait: true });
    policy.revision = 2;
    policy.allowFrom = [1000, 2000];
    mode = 'always';
    await manager.regenerateAll('policy revision 2');
    mode = 'default';
    expect(policy.modes).toEqual(['default', 'always']);
    const ep = manager.get(1)!;
    expect(ep).toMatchObject({ policyRevision: 2, policyEnabled: 'ingress', state: 'ready' });
    expect(datapath.policy.get(1)).toHaveLength(2);
    expect(manager.toApi(ep).status.policy.realized['allowed-ingress-identities']).toEqual([1000, 2000]);
  });

  it('collapses regeneration requests made before the queued run starts into that run', async () => {
    const { manager, datapath } = await setup();
    await manager.create({ labels: ['app=web'] }, { wait: true });
    const runs = [manager.regenerate(1, 'a'), manager.regenerate(1, 'b'), manager.regenerate(1, 'c'), manager.regenerate(1, 'd')];
    await Promise.all(runs);
    // One run for the creation, one shared by a, b, c and d: a burst of policy changes costs one regeneration.
    expect(datapath.calls.filter((c) => c.startsWith('writePolicy'))).toHaveLength(2);
    expect(manager.get(1)?.log[0]?.message).toMatch(/^regenerated \(a\)/);
  });

  it('marks a failed regeneration not-ready with the reason, and retries until it succeeds', async () => {
    const { manager, datapath, outcomes } = await setup();
    datapath.failWrites = 2;
    await expect(manager.create({ labels: ['app=web'] }, { wait: true })).rejects.toThrow(
      'endpoint 1: regeneration failed (endpoint created): bpf_map_update_elem(cilium_policy_00001): E2BIG',
    );
    expect(manager.get(1)?.state).toBe('not-ready');
    await vi.waitFor(() => expect(manager.get(1)?.state).toBe('ready'));
    expect(outcomes).toEqual(['failure', 'failure', 'success']);
    expect(datapath.calls.filter((c) => c.startsWith('attach'))).toEqual(['attach 1']);
  });

  it('deletes an endpoint: detaches it, withdraws its ipcache entry, releases its IP, identity and state file', async () => {
    const { manager, datapath, tables, ipam, identity } = await setup();
    const { ip } = await ipam.allocateNext(4, 'x/a');
    await manager.create({ labels: ['app=web'], ipv4: ip }, { wait: true });
    await manager.delete({ kind: 'id', id: 1 });
    expect(datapath.calls.at(-1)).toBe('detach 1');
    expect(tables.ipcache.size).toBe(0);
    expect(ipam.count(4)).toBe(0);
    expect(identity.refs.size).toBe(0);
    expect(manager.list()).toEqual([]);
    expect(await readdir(join(stateDir, 'endpoints'))).toEqual([]);
    await expect(manager.delete({ kind: 'id', id: 1 })).rejects.toMatchObject({ reason: 'not-found', message: 'endpoint 1 not found' });
  });

  it('persists endpoints and restores them after a restart, with the same ids', async () => {
    const first = await setup();
    await first.manager.create({ containerId: 'c1', labels: ['app=web'], ipv4: '10.0.1.2' }, { wait: true });
    await first.manager.create({ containerId: 'c2', labels: ['app=db'], ipv4: '10.0.1.3' }, { wait: true });
    const saved = JSON.parse(await readFile(join(stateDir, 'endpoints', '2.json'), 'utf8')) as { containerId: string };
    expect(saved.containerId).toBe('c2');
    await first.manager.stop();

    const second = await setup();
    expect(await second.manager.restore()).toBe(2);
    expect(second.manager.list().map((e) => [e.id, e.containerId, e.state])).toEqual([
      [1, 'c1', 'ready'],
      [2, 'c2', 'ready'],
    ]);
    expect(second.identity.refs.size).toBe(2);
    expect(second.datapath.calls).toEqual(expect.arrayContaining(['attach 1', 'writePolicy 1 (0)', 'attach 2', 'writePolicy 2 (0)']));
    expect(second.tables.ipcache.size).toBe(2);
  });

  it('gives labels a source when they have none', () => {
    expect(normalizeLabels(['app=web', 'k8s:tier=db', 'reserved:host='])).toEqual(['k8s:tier=db', 'reserved:host', 'unspec:app=web']);
  });
});
