import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCli } from './lab-cli.js';

// The default lab, driven through cilium-lab as a newcomer would after `npm start`: two nodes over VXLAN,
// client -> frontend -> backend -> db allowed by a CNP, a CNP and a Kubernetes NetworkPolicy, all else denied.
describe('the demo lab over VXLAN', () => {
  const lab = new LabCli();
  const dir = mkdtempSync(join(tmpdir(), 'e2e-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    await lab.ok('up');
  }, 120_000);
  afterAll(async () => {
    await lab.run('down');
  });

  it('runs two nodes and four pods, each addressed from its node pod CIDR', async () => {
    const s = await lab.json<{ nodes: Array<{ name: string }>; pods: Array<{ namespace: string; name: string; node: string; ip: string }> }>('status');
    expect(s.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2']);
    const podCidr: Record<string, string> = { 'node-1': '10.244.1.', 'node-2': '10.244.2.' };
    expect(s.pods.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(['demo/backend', 'demo/client', 'demo/db', 'demo/frontend']);
    for (const p of s.pods) expect(p.ip.startsWith(podCidr[p.node]!)).toBe(true);
  });

  it('allows exactly the intended paths, on one node and across nodes, over TCP and UDP', async () => {
    // frontend is on node-1, its caller client on node-2; backend on node-2, db on node-1.
    expect(await lab.reachable('80/TCP')).toEqual(['demo/client -> demo/frontend']);
    expect(await lab.reachable('8080/TCP')).toEqual(['demo/frontend -> demo/backend']);
    expect(await lab.reachable('8080/UDP')).toEqual(['demo/frontend -> demo/backend']);
    // The db's policy is a Kubernetes NetworkPolicy.
    expect(await lab.reachable('5432/TCP')).toEqual(['demo/backend -> demo/db']);
  });

  it('shows a policy drop in cilium monitor --type drop with the labels of both sides', async () => {
    const monitor = lab.spawn('cilium', 'node-2', 'monitor', '--type', 'drop', '-v');
    try {
      await expect.poll(() => monitor.err(), { timeout: 10_000 }).toMatch(/Listening for events/);
      expect(await lab.connected('demo/client', 'demo/backend', '8080/TCP')).toBe(false);
      await expect.poll(() => monitor.out(), { timeout: 10_000 }).toMatch(/xx drop \(Policy denied\) .*-> 10\.244\.2\.\d+:8080 tcp SYN/);
      expect(monitor.out()).toMatch(/source demo\/client: .*k8s:app=client/);
      expect(monitor.out()).toMatch(/destination demo\/backend: .*k8s:app=backend/);
    } finally {
      monitor.stop();
    }
  });

  it('shows flows through hubble-relay with pod names, identities and verdicts, and the policy drop', async () => {
    expect(await lab.connected('demo/client', 'demo/frontend', '80/TCP')).toBe(true);
    expect(await lab.connected('demo/client', 'demo/backend', '8080/TCP')).toBe(false);
    // -o json prints one flow per line, in protojson with upstream's field names.
    type JsonFlow = { verdict: string; drop_reason_desc?: string; node_name: string; source: { pod_name?: string; identity: number }; destination: { pod_name?: string; identity: number } };
    const flows = async () =>
      (await lab.ok('hubble', 'observe', '--last', '200', '-o', 'json'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as JsonFlow);
    await expect.poll(async () => (await flows()).some((f) => f.verdict === 'DROPPED' && f.destination.pod_name === 'backend'), { timeout: 10_000 }).toBe(true);
    const all = await flows();
    const forwarded = all.find((f) => f.verdict === 'FORWARDED' && f.source.pod_name === 'client' && f.destination.pod_name === 'frontend');
    expect(forwarded?.source.identity).toBeGreaterThan(255);
    const dropped = all.find((f) => f.verdict === 'DROPPED' && f.source.pod_name === 'client' && f.destination.pod_name === 'backend');
    expect(dropped).toMatchObject({ drop_reason_desc: 'POLICY_DENIED', node_name: 'node-2', source: { pod_name: 'client' } });
    // Both nodes are behind the relay.
    expect(await lab.ok('hubble', 'list', 'nodes')).toMatch(/node-1\s+Connected[\s\S]*node-2\s+Connected/);
    const compact = await lab.ok('hubble', 'observe', '--last', '200', '--verdict', 'DROPPED', '--to-pod', 'demo/backend');
    expect(compact).toMatch(/demo\/client:\d+ \(ID:\d+\) <> demo\/backend:8080 \(ID:\d+\) Policy denied DROPPED \(TCP Flags: SYN\)/);
  });

  it("counts the drop in the node's Hubble metrics (upstream names, :9965)", async () => {
    // The metrics listen inside the node's namespace, as on a node; read them from there.
    const scrape = () =>
      execFileSync('ip', ['netns', 'exec', `cts${lab.name}-node-2`, process.execPath, '-e', "fetch('http://127.0.0.1:9965/metrics').then(r => r.text()).then(t => process.stdout.write(t))"]).toString();
    const drops = () => Number(/^hubble_drop_total\{[^}]*reason="POLICY_DENIED"[^}]*\} (\d+)/m.exec(scrape())?.[1] ?? 0);
    const before = drops();
    expect(await lab.connected('demo/client', 'demo/backend', '8080/TCP')).toBe(false);
    await expect.poll(drops, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(scrape()).toMatch(/^hubble_flows_processed_total\{/m);
  });

  it('lets a deny rule beat an allow, live, and lifts it again', async () => {
    const deny = file(
      'deny-client.yaml',
      `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: no-client, namespace: demo}
spec:
  endpointSelector: {matchLabels: {app: frontend}}
  ingressDeny:
    - fromEndpoints: [{matchLabels: {app: client}}]
`,
    );
    expect(await lab.connected('demo/client', 'demo/frontend', '80/TCP')).toBe(true);
    await lab.ok('apply', '-f', deny);
    expect(await lab.connected('demo/client', 'demo/frontend', '80/TCP')).toBe(false);
    await lab.ok('delete', '-f', deny);
    expect(await lab.connected('demo/client', 'demo/frontend', '80/TCP')).toBe(true);
  });

  it('rejects an invalid policy with its path and leaves enforcement as it was', async () => {
    const bad = file(
      'bad.yaml',
      `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: bad, namespace: demo}
spec:
  endpointSelector: {matchLabels: {app: backend}}
  ingress:
    - toPorts: [{ports: [{port: "http!", protocol: TCP}]}]
`,
    );
    const r = await lab.run('apply', '-f', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/spec\.ingress\[0\]\.toPorts\[0\]\.ports\[0\]\.port/);
    expect(await lab.reachable('8080/TCP')).toEqual(['demo/frontend -> demo/backend']);
  });

  it('follows a label change: the pod gets a new identity and the policies that select it', async () => {
    expect(await lab.connected('demo/client', 'demo/backend', '8080/TCP')).toBe(false);
    await lab.ok('label', 'pod', 'demo/client', 'app=frontend');
    await expect.poll(() => lab.connected('demo/client', 'demo/backend', '8080/TCP'), { timeout: 10_000 }).toBe(true);
    await lab.ok('label', 'pod', 'demo/client', 'app=client');
    await expect.poll(() => lab.connected('demo/client', 'demo/backend', '8080/TCP'), { timeout: 10_000 }).toBe(false);
  });

  it('explains a verdict, naming the rule that allowed it or the default deny', async () => {
    const allowed = await lab.ok('cilium', 'node-2', 'policy', 'explain', '--src', 'demo/frontend', '--dst', 'demo/backend', '--dport', '8080/TCP');
    // frontend is on node-1, backend on node-2: the agent explains a flow from a pod it does not host.
    expect(allowed).toMatch(/allowed by CiliumNetworkPolicy demo\/backend spec\.ingress\[0\]/);
    expect(allowed).toMatch(/verdict: ALLOWED/);
    const denied = await lab.ok('cilium', 'node-2', 'policy', 'explain', '--src', 'demo/client', '--dst', 'demo/backend', '--dport', '8080/TCP');
    expect(denied).toMatch(/no rule allowed it: default deny/);
    expect(denied).toMatch(/verdict: DENIED/);
  });

  it('keeps an established connection and keeps enforcing while the agents are killed, and resumes on restart', async () => {
    const id = (await lab.ok('connection', 'open', 'demo/client', 'demo/frontend', '80')).trim();
    expect(await lab.ok('connection', 'check', 'demo/client', id)).toMatch(/alive/);
    const state = JSON.parse(execFileSync('cat', [`/var/run/cilium-${lab.name}/state.json`]).toString()) as { nodes: Array<{ agentPid: number }> };
    for (const n of state.nodes) process.kill(n.agentPid, 'SIGKILL');

    expect(await lab.ok('connection', 'check', 'demo/client', id)).toMatch(/alive/);
    expect(await lab.connected('demo/client', 'demo/frontend', '80/TCP')).toBe(true);
    expect(await lab.connected('demo/client', 'demo/backend', '8080/TCP')).toBe(false);

    expect(await lab.ok('up')).toMatch(/restarted the agent of node-1/);
    expect(await lab.ok('connection', 'check', 'demo/client', id)).toMatch(/alive/);
    expect(await lab.connected('demo/client', 'demo/backend', '8080/TCP')).toBe(false);
    expect(await lab.reachable('8080/TCP')).toEqual(['demo/frontend -> demo/backend']);
  });

  it('down leaves no namespace, pin, socket or process behind', async () => {
    await lab.ok('down');
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toContain(`cts${lab.name}-`);
    expect(existsSync(`/sys/fs/bpf/cilium-${lab.name}`)).toBe(false);
    expect(existsSync(`/var/run/cilium-${lab.name}`)).toBe(false);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(`/var/run/cilium-${lab.name}/`);
  });
});
