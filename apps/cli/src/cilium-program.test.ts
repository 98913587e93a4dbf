import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCilium } from './cilium-program.js';
import { loadValidateFiles, VALIDATION_UNAVAILABLE } from './policy-validate.js';

// The CLI against a real cilium-agent process on a temporary socket. The agent must have been built
// (nx builds it before this project's tests; by hand: npm run build -w apps/agent).
const here = dirname(fileURLToPath(import.meta.url));
const agentBin = join(here, '..', '..', 'agent', 'bin', 'cilium-agent.js');

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('cilium CLI against a running agent', () => {
  let dir: string;
  let socketPath: string;
  let agent: ChildProcess | undefined;
  let agentOutput = '';
  const suffix = randomBytes(3).toString('hex');
  const nodeNs = `cts-cli-node-${suffix}`;
  const bpfRoot = `/sys/fs/bpf/cts-cli-${suffix}`;

  const cilium = async (...args: string[]): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCilium(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: { CILIUM_SOCK: socketPath } });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await cilium('-o', 'json', ...args);
    expect(r.err).toBe('');
    return JSON.parse(r.out) as T;
  };

  beforeAll(async () => {
    if (!existsSync(join(here, '..', '..', 'agent', 'dist', 'main.js'))) throw new Error('build the agent first: npm run build -w apps/agent');
    dir = await mkdtemp(join(tmpdir(), 'cli-'));
    socketPath = join(dir, 'cilium.sock');
    // The agent sets up a node's datapath (devices, sysctls, BPF programs): give it a namespace of its own.
    execFileSync('ip', ['netns', 'add', nodeNs]);
    agent = spawn(
      'nsenter',
      [`--net=/var/run/netns/${nodeNs}`, process.execPath, agentBin, '--node-name', 'node-1', '--node-ip', '192.168.60.1', '--pod-cidr', '10.0.1.0/24',
        '--socket-path', socketPath, '--state-dir', join(dir, 'state'), '--metrics-address', '', '--hubble-port', '0', '--hubble-socket-path', join(dir, 'hubble.sock'), '--bpf-root', bpfRoot],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    agent.stdout!.on('data', (d: Buffer) => (agentOutput += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (agentOutput += d.toString()));
    for (let i = 0; i < 200 && !existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(socketPath)) throw new Error(`agent did not start:\n${agentOutput}`);
  });
  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    execFileSync('ip', ['netns', 'del', nodeNs], { stdio: 'ignore' });
    await rm(bpfRoot, { recursive: true, force: true });
  });

  it('status shows the agent in upstream layout, and as JSON', async () => {
    const r = await cilium('status');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^KVStore:\s+Disabled\s+no kvstore-endpoints configured$/m);
    expect(r.out).toMatch(/^Cilium:\s+Ok\s+Ok$/m);
    expect(r.out).toMatch(/^IPAM:\s+IPv4: 0\/253 allocated from 10\.0\.1\.0\/24$/m);
    expect(r.out).toMatch(/^Routing:\s+Network: Tunnel \[vxlan\]\s+Host: Legacy$/m);
    expect(r.out).toMatch(/^Controller Status:\s+\d+\/\d+ healthy$/m);
    const verbose = await cilium('status', '--verbose');
    // Without a kvstore the agent still runs, and says which parts are node-local stand-ins.
    expect(verbose.out).toMatch(/^ {2}identity\s+ok\s+placeholder: no kvstore \(kvstore-endpoints is empty\)/m);
    expect(verbose.out).toMatch(/^ {2}datapath\s+ok\s+started$/m);
    const s = await json<{ cluster: { self: string } }>('status');
    expect(s.cluster.self).toBe('default/node-1');
  });

  it('endpoint list and get show endpoints created through the API', async () => {
    const { request } = await import('node:http');
    const put = (id: string, body: object) =>
      new Promise<number>((resolve, reject) => {
        const payload = JSON.stringify(body);
        const req = request({ socketPath, method: 'PUT', path: `/v1/endpoint/${id}`, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(payload);
      });
    // Endpoints need an interface for their programs: a veth pair in the node's namespace stands in for a pod.
    const veth = (host: string) => {
      execFileSync('ip', ['-n', nodeNs, 'link', 'add', host, 'type', 'veth', 'peer', 'name', `p${host}`]);
      execFileSync('ip', ['-n', nodeNs, 'link', 'set', host, 'up']);
      const [h] = JSON.parse(execFileSync('ip', ['-n', nodeNs, '-j', 'link', 'show', host]).toString()) as Array<{ ifindex: number; address: string }>;
      const [p] = JSON.parse(execFileSync('ip', ['-n', nodeNs, '-j', 'link', 'show', `p${host}`]).toString()) as Array<{ address: string }>;
      return { 'interface-name': host, 'interface-index': h!.ifindex, 'host-mac': h!.address, mac: p!.address };
    };
    expect(await put('12', { ...veth('lxc12'), 'container-id': 'c-web', labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=x'], addressing: { ipv4: '10.0.1.12' }, 'k8s-namespace': 'x', 'k8s-pod-name': 'web', 'sync-build-endpoint': true })).toBe(201);
    expect(await put('7', { ...veth('lxc7'), 'container-id': 'c-db', labels: ['k8s:app=db'], addressing: { ipv4: '10.0.1.7' }, 'sync-build-endpoint': true })).toBe(201);

    const list = await cilium('endpoint', 'list');
    expect(list.out.split('\n')).toEqual([
      'ENDPOINT   POLICY (ingress)   POLICY (egress)   IDENTITY   LABELS (source:key[=value])         IPv6   IPv4        STATUS',
      '           ENFORCEMENT        ENFORCEMENT',
      '7          Disabled           Disabled          5          k8s:app=db                                 10.0.1.7    ready',
      '12         Disabled           Disabled          5          k8s:app=web                                10.0.1.12   ready',
      '                                                           k8s:io.kubernetes.pod.namespace=x',
    ]);
    const relabeled = await cilium('endpoint', 'labels', '7', '--add', 'k8s:tier=db', '--delete', 'k8s:app');
    expect(relabeled.out.split('\n')).toEqual(['LABELS', 'k8s:tier=db']);
    const got = await cilium('endpoint', 'get', 'pod-name:x:web');
    const [ep] = JSON.parse(got.out) as { id: number; status: { state: string } }[];
    expect(ep).toMatchObject({ id: 12, status: { state: 'ready' } });
  });

  it('identity list and get', async () => {
    const list = await cilium('identity', 'list');
    expect(list.out.split('\n').slice(0, 3)).toEqual(['ID   LABELS', '1    reserved:host', '2    reserved:world']);
    const one = await json<{ id: number; labels: string[] }>('identity', 'get', '5');
    expect(one).toEqual({ id: 5, labels: ['reserved:init'] });
    const missing = await cilium('identity', 'get', '99999');
    expect(missing).toMatchObject({ code: 1, err: 'Error: GET /v1/identity/99999: 404 identity 99999 not found' });
  });

  it('policy import, get and delete', async () => {
    const file = join(dir, 'web.yaml');
    await writeFile(file, 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: web\n  namespace: x\nspec:\n  endpointSelector: {matchLabels: {app: web}}\n');
    const imported = await cilium('policy', 'import', file);
    expect(imported).toMatchObject({ code: 0, out: 'Revision: 2' });
    const got = await cilium('policy', 'get');
    expect(got.out).toContain('"name": "web"');
    expect(got.out).toMatch(/Revision: 2$/);
    const none = await cilium('policy', 'delete');
    expect(none).toMatchObject({ code: 1, err: 'Error: policy delete: give the labels of the rules to delete, or --all' });
    const deleted = await cilium('policy', 'delete', 'k8s:io.cilium.k8s.policy.name=web');
    expect(deleted.out).toBe('Deleted 1 rule(s)\nRevision: 3');
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'kind: CiliumNetworkPolicy\nmetadata: {}\n');
    expect((await cilium('policy', 'import', bad)).err).toBe(
      'Error: PUT /v1/policy: 400 document 0 (CiliumNetworkPolicy): apiVersion: required (cilium.io/v2); document 0 (CiliumNetworkPolicy): metadata.name: required; document 0 (CiliumNetworkPolicy): spec: required (or specs)',
    );
  });

  it('policy validate works offline, without an agent', async () => {
    const file = join(dir, 'valid.yaml');
    await writeFile(file, 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: web}\nspec:\n  endpointSelector: {}\n');
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'kind: [unclosed\n');
    const syntax = await cilium('-H', 'unix:///nonexistent.sock', 'policy', 'validate', broken);
    expect(syntax.code).toBe(1);
    expect(syntax.out).toMatch(/^.*broken\.yaml: document 0 line \d+: /);
    const r = await cilium('-H', 'unix:///nonexistent.sock', 'policy', 'validate', file);
    if (await loadValidateFiles()) {
      expect(r.code).toBe(0);
      expect(r.out).toContain(file);
      expect(r.out).toMatch(/: valid$/);
    } else {
      expect(r).toMatchObject({ code: 1, err: `Error: ${VALIDATION_UNAVAILABLE}` });
    }
  });

  it('policy explain sends the peers and reports what the agent says', async () => {
    // No policy selects either side here, so nothing is enforced and the flow is allowed.
    const r = await cilium('policy', 'explain', '--src', 'k8s:app=web', '--dst', 'k8s:app=db', '--dport', '5432/TCP');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Verdict: no-enforcement$/m);
    expect(r.out).toMatch(/verdict: ALLOWED/);
    const bad = await cilium('policy', 'explain', '--src', 'x/web', '--dst', '2', '--dport', '80/XYZ');
    expect(bad.err).toBe('Error: --dport 80/XYZ: expected <port>[/TCP|UDP|SCTP], e.g. 80/TCP');
  });

  it('config shows and changes options', async () => {
    const r = await cilium('config');
    expect(r.out).toMatch(/^pod-cidr\s+10\.0\.1\.0\/24$/m);
    expect(r.out).toMatch(/^PolicyEnforcement\s+default$/m);
    const changed = await cilium('config', 'Debug=Enabled', 'PolicyEnforcement=always');
    expect(changed.out).toMatch(/^Debug\s+Enabled$/m);
    expect(changed.out).toMatch(/^PolicyEnforcement\s+always$/m);
    expect((await cilium('config', 'Conntrack=Enabled')).err).toContain('options.Conntrack: unknown or immutable option');
  });

  it('metrics list, map list/get and the bpf views', async () => {
    const metrics = await cilium('metrics', 'list', '--match-pattern', '^cilium_endpoint$');
    expect(metrics.out.split('\n')).toEqual(['Metric            Labels   Value', 'cilium_endpoint            2.000000']);
    const maps = await cilium('map', 'list');
    expect(maps.out).toMatch(/^Name\s+Num entries\s+Num errors\s+Cache enabled$/m);
    // The maps as the kernel holds them: the node's own address is the host identity, the two endpoints
    // carry theirs, and each endpoint has a policy map with its one allow-all entry per direction.
    expect(maps.out).toMatch(/^cilium_ipcache\s+3\s+0\s+true$/m);
    expect(maps.out).toMatch(/^cilium_policy_00012\s+\d+\s+0\s+true$/m);
    expect(maps.out).toMatch(/^cilium_ct4_global\s+\d+\s+0\s+true$/m);
    const ipcache = await cilium('bpf', 'ipcache', 'list');
    expect(ipcache.out.split('\n')).toEqual([
      'IP PREFIX/ADDRESS   IDENTITY',
      '10.0.1.12/32        identity=5',
      '10.0.1.7/32         identity=5',
      '192.168.60.1/32     identity=1',
    ]);
    expect((await cilium('bpf', 'ipcache', 'get', '10.0.1.7')).out).toBe('10.0.1.7 maps to identity=5 (prefix 10.0.1.7/32)');
    expect((await cilium('bpf', 'ipcache', 'get', '10.9.9.9')).err).toBe('Error: 10.9.9.9 does not map to any identity');
    // PolicyEnforcement=always (set by the config test): only the host may reach the endpoint.
    expect((await cilium('bpf', 'policy', 'get', '12')).out.split('\n')).toEqual([
      'POLICY   DIRECTION   IDENTITY   PORT/PROTO   BYTES   PACKETS',
      'Allow    Ingress     1          ANY/ANY      0       0',
    ]);
    expect((await cilium('bpf', 'ct', 'list', 'global')).code).toBe(0);
    expect((await cilium('bpf', 'metrics', 'list')).code).toBe(0);
  });

  it('says in one line which socket it could not reach', async () => {
    const r = await cilium('-H', `unix://${join(dir, 'nothing.sock')}`, 'status');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`Error: cannot reach the agent at unix://${join(dir, 'nothing.sock')}: ENOENT (is cilium-agent running? use -H or CILIUM_SOCK)`);
    expect(r.err.split('\n')).toHaveLength(1);
  });

  it('prints usage with --help', async () => {
    const r = await cilium('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: cilium [options] [command]');
    for (const cmd of ['status', 'endpoint', 'identity', 'policy', 'config', 'metrics', 'map', 'bpf']) expect(r.out).toContain(cmd);
  });
});
