import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { parseAllDocuments } from 'yaml';
import { AgentClient } from '@cilium-ts/agent-api';
import { printDemoResult, runDatapathDemo } from './demo.js';
import { BIN, applyPolicies, labIsUp, labUp } from './lab.js';
import { labPaths } from './lab-paths.js';
import { destroyLab } from './lab-network.js';
import { findNode, findPod, readState, requireState, writeState } from './lab-state.js';
import { writeNamespaceLabels, writePodLabels } from './pod-source.js';
import { echoOverHeld, holdConnection, probeFromPod } from './probe-client.js';
import { formatMatrix, parsePortSpec, podName, probeAll } from './probe.js';
import { loadTopology } from './topology.js';

// CILIUM_LAB_NAME lets a second lab (the end-to-end tests) live beside a person's own.
const paths = labPaths(process.env.CILIUM_LAB_NAME || 'lab');
const DEFAULT_TOPOLOGY = fileURLToPath(new URL('../topologies/demo.yaml', import.meta.url));
const DEFAULT_POLICIES = fileURLToPath(new URL('../policies/demo.yaml', import.meta.url));

const program = new Command('cilium-lab')
  .description('The local cilium-ts lab: network namespaces as nodes and pods, real agents and datapath, etcd')
  .showHelpAfterError();

program
  .command('up')
  .description('bring the lab up (idempotent) and print what to try')
  .option('-f, --file <topology.yaml>', 'topology file (default: the demo application on two nodes)')
  .addOption(new Option('--routing <mode>', 'how nodes carry pod traffic').choices(['vxlan', 'native']).default('vxlan'))
  .option('--no-policies', 'do not apply the demo policies (only with the default topology)')
  .action(async (opts: { file?: string; routing: 'vxlan' | 'native'; policies: boolean }) => {
    const topology = loadTopology(opts.file ?? DEFAULT_TOPOLOGY);
    const policies = !opts.file && opts.policies ? [DEFAULT_POLICIES] : [];
    const state = await labUp({ topology, routing: opts.routing, policies, paths, log: (l) => console.log(l) });
    console.log('');
    console.log('The lab is up. Pods:');
    for (const p of state.pods) console.log(`  ${podName(p).padEnd(24)} ${p.ip.padEnd(14)} on ${p.node}`);
    console.log('');
    console.log('Try:');
    if (!opts.file) {
      console.log('  npx cilium-lab probe demo/client demo/frontend 80/TCP     # allowed by policy');
      console.log('  npx cilium-lab probe demo/client demo/backend 8080/TCP    # denied: only the frontend may call the backend');
      console.log('  npx cilium-lab probe --all 8080/TCP                        # the whole reachability matrix');
      console.log('  npx cilium-lab cilium node-1 policy explain --src k8s:app=frontend --dst k8s:app=db --dport 5432/TCP');
    }
    console.log('  npx hubble observe --last 20                               # flows through hubble-relay on ' + state.relay!.address);
    console.log('  npx hubble observe --verdict DROPPED -f                    # follow the drops');
    console.log('  npx cilium-lab status');
    console.log('  npx cilium-lab cilium node-1 endpoint list');
    console.log('  npx cilium-lab exec demo/client -- ip addr');
    console.log('  npm stop                                                   # or: npx cilium-lab down');
  });

program
  .command('down')
  .description('remove everything the lab made (safe on a half-made lab)')
  .action(async () => {
    await destroyLab(paths, (l) => console.log(l));
    console.log('the lab is down');
  });

program
  .command('status')
  .description('nodes and pods of the lab')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
  .action((opts: { output: string }) => {
    const state = readState(paths);
    const up = labIsUp(state);
    if (opts.output === 'json') {
      console.log(JSON.stringify({
        up,
        routing: state?.routing,
        relay: state?.relay?.address,
        nodes: (state?.nodes ?? []).map((n) => ({ name: n.name, ip: n.underlayIp, podCIDR: n.podCidr, socket: n.socket })),
        pods: (state?.pods ?? []).map((p) => ({ namespace: p.namespace, name: p.name, node: p.node, ip: p.ip, labels: p.labels })),
      }, null, 2));
      return;
    }
    if (!state) {
      console.log('the lab is down');
      return;
    }
    console.log(`lab: ${up ? 'up' : 'DEGRADED (a process is gone; run cilium-lab up again)'}, routing ${state.routing}, hubble-relay ${state.relay?.address ?? 'none'}`);
    console.log('NODE       UNDERLAY      POD CIDR        API SOCKET');
    for (const n of state.nodes) console.log(`${n.name.padEnd(10)} ${n.underlayIp.padEnd(13)} ${n.podCidr.padEnd(15)} ${n.socket}`);
    console.log('POD                      IP             NODE       LABELS');
    for (const p of state.pods) {
      console.log(`${podName(p).padEnd(24)} ${p.ip.padEnd(14)} ${p.node.padEnd(10)} ${Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(',')}`);
    }
  });

program
  .command('exec')
  .description('run a command inside a pod: exec <ns>/<pod> -- CMD...')
  .argument('<pod>')
  .argument('<command...>')
  .action((pod: string, command: string[]) => {
    const p = findPod(requireState(paths), pod);
    const r = spawnSync('ip', ['netns', 'exec', p.netns, ...command], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

program
  .command('probe')
  .description('try one connection: probe <ns>/<pod> <ns>/<pod>|<ip> <port>/<TCP|UDP|SCTP>, or probe --all <port>/<proto>')
  .argument('[args...]')
  .option('--all', 'probe every pod from every pod and print the reachability matrix')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
  .option('--timeout <ms>', 'connection timeout', '1000')
  .action(async (args: string[], opts: { all?: boolean; output: string; timeout: string }) => {
    const state = requireState(paths);
    if (opts.all) {
      if (args.length !== 1) throw new Error('usage: cilium-lab probe --all <port>/<proto>');
      const m = await probeAll(state, parsePortSpec(args[0]!), Number(opts.timeout));
      console.log(opts.output === 'json' ? JSON.stringify(m) : formatMatrix(m));
      return;
    }
    if (args.length !== 3) throw new Error('usage: cilium-lab probe <ns>/<pod> <ns>/<pod>|<ip> <port>/<proto>');
    const from = findPod(state, args[0]!);
    const target = /^[\d.]+$|:/.test(args[1]!) ? args[1]! : findPod(state, args[1]!).ip;
    const spec = parsePortSpec(args[2]!);
    const r = await probeFromPod(from.control, { host: target, ...spec, timeoutMs: Number(opts.timeout) });
    if (opts.output === 'json') console.log(JSON.stringify({ from: podName(from), to: args[1], ...spec, ...r }));
    else console.log(r.connected ? `${podName(from)} -> ${args[1]} ${spec.port}/${spec.protocol}: connected` : `${podName(from)} -> ${args[1]} ${spec.port}/${spec.protocol}: not connected (${r.error})`);
    process.exitCode = r.connected ? 0 : 1;
  });

const connection = program.command('connection').description('long-lived TCP connections held open from a pod, to watch them survive changes');
connection
  .command('open')
  .description('open a TCP connection from a pod and keep it: open <ns>/<pod> <ns>/<pod>|<ip> <port>; prints its id')
  .argument('<from>')
  .argument('<to>')
  .argument('<port>')
  .action(async (fromRef: string, to: string, port: string) => {
    const state = requireState(paths);
    const from = findPod(state, fromRef);
    const host = /^[\d.]+$|:/.test(to) ? to : findPod(state, to).ip;
    const r = await holdConnection(from.control, host, parsePortSpec(port).port);
    if (r.id === undefined) throw new Error(`${fromRef} -> ${to} ${port}: not connected (${r.error})`);
    // A string: console.log colours numbers when FORCE_COLOR is set (as under nx), and scripts read this.
    console.log(String(r.id));
  });
connection
  .command('check')
  .description('send data over a held connection and wait for the echo: check <ns>/<pod> <id>')
  .argument('<from>')
  .argument('<id>')
  .action(async (fromRef: string, id: string) => {
    const from = findPod(requireState(paths), fromRef);
    const r = await echoOverHeld(from.control, Number(id));
    console.log(r.ok ? `connection ${id}: alive` : `connection ${id}: broken (${r.error})`);
    process.exitCode = r.ok ? 0 : 1;
  });

program
  .command('apply')
  .description('import policies into every node of the lab, like kubectl apply')
  .requiredOption('-f, --file <file>', 'policy YAML or JSON')
  .action(async (opts: { file: string }) => {
    const revision = await applyPolicies(requireState(paths), readFileSync(opts.file, 'utf8'), opts.file);
    console.log(`applied ${opts.file} (policy revision ${revision})`);
  });

program
  .command('delete')
  .description('delete the policies of a file from every node of the lab, like kubectl delete')
  .requiredOption('-f, --file <file>', 'policy YAML or JSON')
  .action(async (opts: { file: string }) => {
    const state = requireState(paths);
    for (const doc of parseAllDocuments(readFileSync(opts.file, 'utf8'))) {
      const meta = (doc.toJS() as { metadata?: { name?: string; namespace?: string } } | null)?.metadata;
      if (!meta?.name) continue;
      // Upstream's derived labels of a policy: its name, and its namespace for namespaced kinds.
      const labels = [`k8s:io.cilium.k8s.policy.name=${meta.name}`, ...(meta.namespace ? [`k8s:io.cilium.k8s.policy.namespace=${meta.namespace}`] : [])];
      for (const n of state.nodes) await new AgentClient(n.socket).request('DELETE', `/v1/policy?labels=${encodeURIComponent(labels.join(','))}`);
      console.log(`deleted ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}`);
    }
  });

program
  .command('label')
  .description('change labels live, like kubectl label: label pod <ns>/<pod> k=v [k-] | label namespace <ns> k=v [k-]')
  .argument('<kind>', 'pod or namespace')
  .argument('<name>')
  .argument('<changes...>')
  .action((kind: string, name: string, changes: string[]) => {
    const state = requireState(paths);
    const apply = (labels: Record<string, string>) => {
      const next = { ...labels };
      for (const c of changes) {
        if (c.endsWith('-')) delete next[c.slice(0, -1)];
        else if (c.includes('=')) next[c.slice(0, c.indexOf('='))] = c.slice(c.indexOf('=') + 1);
        else throw new Error(`"${c}" is neither key=value nor key-`);
      }
      return next;
    };
    if (kind === 'pod') {
      const p = findPod(state, name);
      p.labels = apply(p.labels);
      writePodLabels(paths, p.namespace, p.name, p.labels);
    } else if (kind === 'namespace') {
      const ns = state.topology.namespaces[name];
      if (!ns) throw new Error(`no namespace ${name} in the lab`);
      ns.labels = apply(ns.labels);
      writeNamespaceLabels(paths, name, ns.labels);
    } else throw new Error(`label ${kind}: expected pod or namespace`);
    writeState(paths, state);
    console.log(`${kind} ${name} labeled`);
  });

program
  .command('cilium')
  .description("the cilium CLI against a node's agent: cilium <node> ARGS...")
  .argument('<node>')
  .argument('[args...]')
  .allowUnknownOption()
  .helpOption(false)
  .action(async (node: string, args: string[]) => {
    const n = findNode(requireState(paths), node);
    const child = spawn(process.execPath, [BIN.cilium, ...args], { stdio: 'inherit', env: { ...process.env, CILIUM_SOCK: n.socket } });
    process.exitCode = await new Promise<number>((r) => child.on('exit', (code) => r(code ?? 1)));
  });

program
  .command('hubble')
  .description("the hubble CLI against the lab's relay: hubble ARGS... (e.g. observe --last 20)")
  .argument('[args...]')
  .allowUnknownOption()
  .helpOption(false)
  .action(async (args: string[]) => {
    const state = requireState(paths);
    if (!state.relay) throw new Error('the lab has no relay: run cilium-lab up');
    const child = spawn(process.execPath, [BIN.hubble, ...args], { stdio: 'inherit', env: { ...process.env, HUBBLE_SERVER: state.relay.address } });
    process.exitCode = await new Promise<number>((r) => child.on('exit', (code) => r(code ?? 1)));
  });

program
  .command('demo')
  .description('the datapath on real packets: two namespaces, a veth, a BPF program counting packets')
  .action(async () => {
    printDemoResult(await runDatapathDemo());
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`cilium-lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
