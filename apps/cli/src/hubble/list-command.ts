import { createClient, ConnectError } from '@connectrpc/connect';
import { GetNamespacesResponseSchema, GetNodesResponseSchema, NodeState, Observer, toHubbleJson, type Node } from '@cilium-ts/proto';
import { Command, Option } from 'commander';
import { CliError } from '../cli-error.js';
import { formatTable } from '../table.js';
import { addServerFlags, connect, type ServerOptions } from './connection.js';
import type { HubbleIO } from './hubble-io.js';

const stateText: Readonly<Record<number, string>> = {
  [NodeState.NODE_CONNECTED]: 'Connected',
  [NodeState.NODE_UNAVAILABLE]: 'Unavailable',
  [NodeState.NODE_GONE]: 'Gone',
  [NodeState.NODE_ERROR]: 'Error',
};

/** Go's time.Duration.String() truncated to seconds: `2h34m5s`, `45s`. */
export function goDuration(ns: bigint): string {
  let s = Number(ns / 1_000_000_000n);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

function nodeRow(n: Node, wide: boolean): string[] {
  const connected = n.state === NodeState.NODE_CONNECTED;
  const uptimeS = Number(n.uptimeNs) / 1e9;
  const row = [
    n.name,
    stateText[n.state] ?? 'Unknown',
    connected ? goDuration(n.uptimeNs) : 'N/A',
    connected && uptimeS > 0 ? (Number(n.seenFlows) / uptimeS).toFixed(2) : 'N/A',
    connected ? `${n.numFlows}/${n.maxFlows} (${(n.maxFlows > 0n ? (Number(n.numFlows) / Number(n.maxFlows)) * 100 : 0).toFixed(2).padStart(6)}%)` : 'N/A',
  ];
  if (wide) row.push(n.version || 'N/A', n.address || 'N/A', n.tls?.enabled ? 'Enabled' : 'Disabled');
  return row;
}

/** `hubble list nodes|namespaces`. */
export function listCommand(io: HubbleIO): Command {
  const list = new Command('list').description('List Hubble objects');
  const call = async <T>(o: ServerOptions, what: string, fn: (client: ReturnType<typeof createClient<typeof Observer>>, timeoutMs: number) => Promise<T>): Promise<T> => {
    const { hubble, requestTimeoutMs } = connect(o);
    try {
      return await fn(createClient(Observer, hubble.transport), requestTimeoutMs);
    } catch (err) {
      throw new CliError(`list ${what}: ${o.server}: ${err instanceof ConnectError ? err.rawMessage : String(err)}`);
    } finally {
      hubble.close();
    }
  };

  const nodes = new Command('nodes').description('List Hubble nodes').addOption(new Option('-o, --output <format>', 'json, table or wide').choices(['json', 'table', 'wide']).default('table'));
  addServerFlags(nodes, io.env).action(async (o: ServerOptions & { output: string }) => {
    const res = await call(o, 'nodes', (c, timeoutMs) => c.getNodes({}, { timeoutMs }));
    const sorted = [...res.nodes].sort((a, b) => a.name.localeCompare(b.name));
    if (o.output === 'json') {
      io.stdout.write(`${JSON.stringify(toHubbleJson(GetNodesResponseSchema, { ...res, nodes: sorted }), null, 2)}\n`);
      return;
    }
    const wide = o.output === 'wide';
    const header = ['NAME', 'STATUS', 'AGE', 'FLOWS/S', 'CURRENT/MAX-FLOWS', ...(wide ? ['VERSION', 'ADDRESS', 'TLS'] : [])];
    io.stdout.write(`${formatTable(header, sorted.map((n) => nodeRow(n, wide)))}\n`);
  });

  const namespaces = new Command('namespaces').description('List namespaces with recent flows').addOption(new Option('-o, --output <format>', 'json or table').choices(['json', 'table']).default('table'));
  addServerFlags(namespaces, io.env).action(async (o: ServerOptions & { output: string }) => {
    const res = await call(o, 'namespaces', (c, timeoutMs) => c.getNamespaces({}, { timeoutMs }));
    if (o.output === 'json') {
      io.stdout.write(`${JSON.stringify(toHubbleJson(GetNamespacesResponseSchema, res), null, 2)}\n`);
      return;
    }
    const withCluster = res.namespaces.some((n) => n.cluster !== '');
    const header = withCluster ? ['CLUSTER', 'NAMESPACE'] : ['NAMESPACE'];
    io.stdout.write(`${formatTable(header, res.namespaces.map((n) => (withCluster ? [n.cluster, n.namespace] : [n.namespace])))}\n`);
  });

  return list.addCommand(nodes).addCommand(namespaces);
}
