// The agent and CNI figures of the brief (§6): CNI ADD and DEL latency with process start, time from a
// policy import to its enforcement on a running endpoint, and the agent's RSS with 10, 100 and 1 000
// endpoints. Every run builds its own node namespace and removes it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { AgentClient, type Endpoint } from '@cilium-ts/agent-api';
import { CNI_BIN, NodeUnderTest, percentile, table } from './node-under-test.js';

function runCni(node: NodeUnderTest, command: 'ADD' | 'DEL', container: string, podNs: string): Promise<number> {
  const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'cilium', type: 'cilium-cni', 'agent-socket': node.socket });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('nsenter', [`--net=/var/run/netns/${node.netns}`, process.execPath, CNI_BIN], {
      env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: container, CNI_NETNS: `/var/run/netns/${podNs}`, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: `K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${container}` },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`cilium-cni ${command}: ${out}`))));
    child.stdin.end(conf);
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function cniLatency(rounds: number): Promise<Array<Array<string | number>>> {
  const node = new NodeUnderTest();
  try {
    await node.start();
    const add: number[] = [];
    const del: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const pod = node.podNetns(`p${i}`);
      add.push(await runCni(node, 'ADD', `bench-${i}`, pod));
      del.push(await runCni(node, 'DEL', `bench-${i}`, pod));
    }
    const row = (what: string, xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return [what, rounds, percentile(s, 50).toFixed(1), percentile(s, 99).toFixed(1)];
    };
    return [row('CNI ADD (process start included)', add), row('CNI DEL (process start included)', del)];
  } finally {
    await node.close();
  }
}

async function policyToEnforcement(rounds: number): Promise<Array<Array<string | number>>> {
  const node = new NodeUnderTest();
  try {
    await node.start();
    const pod = node.podNetns('target');
    await runCni(node, 'ADD', 'target', pod);
    const client = new AgentClient(node.socket);
    const [ep] = await client.get<Endpoint[]>('/v1/endpoint');
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      // Each round changes what the endpoint allows, so its policy map really changes.
      const doc = `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: bench}\nspec:\n  endpointSelector: {}\n  ingress:\n    - toPorts: [{ports: [{port: "${1000 + i}", protocol: TCP}]}]\n`;
      const t0 = performance.now();
      const { revision } = await client.request<{ revision: number }>('PUT', '/v1/policy', doc, 'application/yaml');
      for (;;) {
        const now = await client.get<Endpoint>(`/v1/endpoint/${ep!.id}`);
        if (now.status.policy.realized['policy-revision'] >= revision && now.status.state === 'ready') break;
        await new Promise((r) => setImmediate(r));
      }
      times.push(performance.now() - t0);
    }
    const s = times.sort((a, b) => a - b);
    return [['policy import -> endpoint enforcing it', rounds, percentile(s, 50).toFixed(1), percentile(s, 99).toFixed(1)]];
  } finally {
    await node.close();
  }
}

/** Endpoints made straight through the API on veth pairs in the node, as the CNI would leave them. */
async function agentMemory(counts: number[]): Promise<Array<Array<string | number>>> {
  const node = new NodeUnderTest();
  const rows: Array<Array<string | number>> = [];
  try {
    await node.start();
    const client = new AgentClient(node.socket, 120_000);
    rows.push(['agent RSS, 0 endpoints (MiB)', rssMiB(node.agentPid).toFixed(1)]);
    let made = 0;
    for (const target of counts) {
      const batch = [];
      for (; made < target; made++) {
        const host = `lxb${made}`;
        node.exec(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', `pb${made}`]);
        node.exec(['ip', 'link', 'set', host, 'up']);
        const [h] = JSON.parse(node.exec(['ip', '-j', 'link', 'show', host])) as Array<{ ifindex: number; address: string }>;
        const [p] = JSON.parse(node.exec(['ip', '-j', 'link', 'show', `pb${made}`])) as Array<{ address: string }>;
        batch.push(
          client.request('PUT', `/v1/endpoint/container-id:mem-${made}`, {
            labels: [`k8s:app=app${made % 20}`],
            addressing: { ipv4: `10.240.${Math.floor(made / 250)}.${(made % 250) + 2}` },
            'interface-name': host,
            'interface-index': h!.ifindex,
            'host-mac': h!.address,
            mac: p!.address,
            'sync-build-endpoint': true,
          }),
        );
        if (batch.length >= 20) await Promise.all(batch.splice(0));
      }
      await Promise.all(batch);
      global.gc?.();
      await new Promise((r) => setTimeout(r, 500));
      rows.push([`agent RSS, ${target} endpoints (MiB)`, rssMiB(node.agentPid).toFixed(1)]);
    }
    return rows;
  } finally {
    await node.close();
  }
}

const quick = process.argv.includes('--quick');
console.log('Agent and CNI (one node namespace, real agent and datapath, no kvstore)\n');
console.log(table(['measure', 'runs', 'p50 ms', 'p99 ms'], [...(await cniLatency(quick ? 10 : 50)), ...(await policyToEnforcement(quick ? 5 : 20))]));
console.log('');
console.log(table(['memory', 'value'], await agentMemory(quick ? [10] : [10, 100, 1000])));
