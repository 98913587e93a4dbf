import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { FlowPrinter, PeerRegistry, createHubbleTransport, startHubbleServer, type HubbleServer, type OutputFormat } from '@cilium-ts/hubble';
import { testObserver } from '@cilium-ts/hubble/testing';
import { startHubbleRelay, type HubbleRelay } from '@cilium-ts/hubble-relay';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { AgentEventSchema, AgentEventType, GetFlowsRequestSchema, Observer, type GetFlowsResponse } from '@cilium-ts/proto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHubble } from './hubble-program.js';
import { defaultFieldMask } from './observe-command.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function hubble(args: string[], env: Record<string, string> = {}, signal?: AbortSignal, onOut?: (text: string) => void): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runHubble(args, {
    stdout: { write: (s: string) => ((out += s), onOut?.(out)) },
    stderr: { write: (s: string) => (err += s) },
    env,
    signal,
  });
  return { code, out, err };
}

// The hubble CLI against a real relay in front of two real Hubble servers.
describe('hubble CLI against hubble-relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubble-cli-'));
  const T0 = Date.now() - 30_000;
  const nodes = [testObserver('k8s1'), testObserver('k8s2')];
  const servers: HubbleServer[] = [];
  let relay: HubbleRelay;
  let server: string;

  beforeAll(async () => {
    nodes.forEach((n, i) => {
      for (let j = 0; j < 3; j++) n.udp(T0 + j * 100 + i * 10, 1000 * (i + 1) + j, i === 1 && j === 2 ? 'dropped' : 'forwarded');
    });
    const peers = new PeerRegistry();
    for (const [i, n] of nodes.entries()) {
      servers.push(await startHubbleServer({ observer: n.observer, nodeName: `k8s${i + 1}`, version: '1.19.4-ts', peers, unixSocket: join(dir, `k8s${i + 1}.sock`), tcp: { host: '127.0.0.1', port: 0 } }));
    }
    servers.forEach((s, i) => peers.set({ name: `k8s${i + 1}`, address: s.address }));
    relay = await startHubbleRelay({ listen: { host: '127.0.0.1', port: 0 }, peerService: `unix://${join(dir, 'k8s1.sock')}`, version: '1.19.4-ts', nodeName: 'relay', backoffMinMs: 100 });
    const deadline = Date.now() + 15_000;
    while (relay.peers().filter((p) => p.available).length < 2) {
      if (Date.now() > deadline) throw new Error('relay did not connect to both servers');
      await new Promise((r) => setTimeout(r, 20));
    }
    server = `127.0.0.1:${relay.address.port}`;
  });
  afterAll(async () => {
    await relay.close();
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  // What FlowPrinter makes of the same responses fetched with a plain client: the CLI must print exactly that.
  async function expected(output: OutputFormat, request: Parameters<typeof create<typeof GetFlowsRequestSchema>>[1], printer: { nodeName?: boolean } = {}): Promise<string> {
    const t = createHubbleTransport(server);
    const responses: GetFlowsResponse[] = [];
    try {
      for await (const r of createClient(Observer, t.transport).getFlows(create(GetFlowsRequestSchema, request))) if (r.responseTypes.case === 'flow') responses.push(r);
    } finally {
      t.close();
    }
    let text = '';
    const p = new FlowPrinter({ output, ...printer }, { write: (s: string) => (text += s) });
    for (const r of responses) p.write(r);
    p.close();
    return text;
  }

  it.each(['compact', 'dict', 'table', 'json'] as const)('observe --last 2 -o %s prints what FlowPrinter prints', async (output) => {
    const run = await hubble(['observe', '--server', server, '--last', '2', '-o', output]);
    expect(run).toMatchObject({ code: 0, err: '' });
    const mask = output === 'json' ? undefined : { paths: [...defaultFieldMask] };
    expect(run.out).toBe(await expected(output, { number: 2n, fieldMask: mask }));
    expect(run.out).toContain(output === 'json' ? '"source":{' : 'x/a:1001');
  });

  it('observe -o jsonpb writes one GetFlowsResponse per line; with -D node status events go to stderr', async () => {
    const run = await hubble(['observe', '--server', server, '-o', 'jsonpb', '--last', '1', '-D']);
    const lines = run.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['node_name'])).toEqual(['k8s1', 'k8s2']);
    expect(lines.every((l) => l['flow'] !== undefined)).toBe(true);
    expect(JSON.parse(run.err)).toMatchObject({ node_status: { state_change: 'NODE_CONNECTED', node_names: ['k8s1', 'k8s2'] }, node_name: 'relay' });
  });

  it('observe filters: --verdict, --not, --from-port, -n with --pod, --print-node-name', async () => {
    const dropped = await hubble(['observe', '--server', server, '--verdict', 'DROPPED', '--print-node-name']);
    expect(dropped.out.trim().split('\n')).toHaveLength(1);
    expect(dropped.out).toMatch(/\[k8s2\]: x\/a:2002 \(ID:30007\) <> y\/b:53 \(ID:30008\) Policy denied DROPPED \(UDP\)\n$/);
    const notDropped = await hubble(['observe', '--server', server, '--not', '--verdict', 'DROPPED']);
    expect(notDropped.out.trim().split('\n')).toHaveLength(5);
    const port = await hubble(['observe', '--server', server, '--from-port', '1000', '--from-port', '2001']);
    expect(port.out).toMatch(/x\/a:1000 .*\n.*x\/a:2001 /);
    expect(port.out.trim().split('\n')).toHaveLength(2);
    const pods = await hubble(['observe', '--server', server, '-n', 'y', '--to-pod', 'b', '--http-status', '200']);
    expect(pods).toMatchObject({ code: 0, out: '' }); // no L7 flows
    const podsOnly = await hubble(['observe', '--server', server, '-n', 'y', '--to-pod', 'b']);
    expect(podsOnly.out.trim().split('\n')).toHaveLength(6);
  });

  it('observe --follow prints flows as they arrive until interrupted', async () => {
    const abort = new AbortController();
    const run = hubble(['observe', '--server', server, '-f', '--since', '1s', '--port', '3333'], {}, abort.signal, (out) => {
      if (out.includes(':3333')) abort.abort();
    });
    // --since 1s covers a flow written before the relay's streams reach the servers.
    nodes[0]?.udp(Date.now(), 3333);
    const result = await run;
    expect(result.code).toBe(0);
    expect(result.out).toContain('x/a:3333 (ID:30007) <> y/b:53 (ID:30008) to-endpoint FORWARDED (UDP)');
  });

  it('status shows the health check and the cluster counts', async () => {
    const run = await hubble(['status'], { HUBBLE_SERVER: server });
    expect(run.code).toBe(0);
    expect(run.out).toMatch(new RegExp(`^Healthcheck \\(via ${server}\\): Ok\\nCurrent/Max Flows: \\d+/8,190 \\(0\\.\\d\\d%\\)\\nFlows/s: [\\d.]+\\nConnected Nodes: 2/2\\n$`));
    const json = await hubble(['status', '--server', server, '-o', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({ max_flows: '8190', num_connected_nodes: 2, num_unavailable_nodes: 0 });
  });

  it('list nodes and list namespaces', async () => {
    const nodesRun = await hubble(['list', 'nodes', '--server', server]);
    const lines = nodesRun.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+AGE\s+FLOWS\/S\s+CURRENT\/MAX-FLOWS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['k8s1', 'Connected'],
      ['k8s2', 'Connected'],
    ]);
    const wide = await hubble(['list', 'nodes', '--server', server, '-o', 'wide']);
    expect(wide.out).toContain(servers[1]?.address);
    const ns = await hubble(['list', 'namespaces', '--server', server]);
    expect(ns.out).toBe('NAMESPACE\nx\ny\n');
  });

  it('talks to a node\u2019s Hubble server over its unix socket too', async () => {
    const run = await hubble(['observe', '--server', `unix://${join(dir, 'k8s2.sock')}`, '--last', '1', '--print-node-name']);
    expect(run.out).toMatch(/ \[k8s2\]: x\/a:2002 /);
  });

  it('observe agent-events reads a node\u2019s agent events', async () => {
    nodes[0]?.observer.ring.write(create(AgentEventSchema, { type: AgentEventType.AGENT_STARTED, notification: { case: 'agentStart', value: { time: timestampFromMs(T0) } } }), T0);
    const run = await hubble(['observe', 'agent-events', '--server', `unix://${join(dir, 'k8s1.sock')}`, '--last', '5', '-o', 'json']);
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(run.out)).toMatchObject({ type: 'AGENT_STARTED', agent_start: { time: new Date(T0).toISOString() } });
  });

  it('watch peers lists what the peer service announces', async () => {
    const abort = new AbortController();
    const run = hubble(['watch', 'peers', '--server', `unix://${join(dir, 'k8s1.sock')}`], {}, abort.signal, (out) => {
      if (out.split('\n').length > 2) abort.abort();
    });
    const { out } = await run;
    expect(out).toBe(`PEER_ADDED  ${servers[0]?.address}  k8s1\nPEER_ADDED  ${servers[1]?.address}  k8s2\n`);
  });

  it('rejects conflicting selectors and unknown values with a one-line error', async () => {
    expect(await hubble(['observe', '--server', server, '--first', '1', '--follow'])).toMatchObject({ code: 1, err: 'Error: --first cannot be combined with --last, --all or --follow\n' });
    const bad = await hubble(['observe', '--server', server, '--verdict', 'MAYBE']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^Error: --verdict: unknown value "MAYBE"/);
    const down = await hubble(['status', '--server', '127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^Error: status: health check via 127\.0\.0\.1:1: /);
  });
});
