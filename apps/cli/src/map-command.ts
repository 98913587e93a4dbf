// cilium map list|get, and the bpf commands that read the agent's maps through /v1/map.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Command } from 'commander';
import type { BPFMap, BPFMapList, Endpoint } from '@cilium-ts/agent-api';
import { AgentApiError, type AgentClient } from '@cilium-ts/agent-api';
import { CliError } from './cli-error.js';
import type { CommandContext } from './command-context.js';
import { formatTable } from './table.js';

export function formatMapList(list: BPFMapList): string {
  return formatTable(['Name', 'Num entries', 'Num errors', 'Cache enabled'], list.maps.map((m) => [m.name, m.size, m.errors, 'true']));
}

export function formatMapEntries(map: BPFMap): string {
  return formatTable(['Key', 'Value', 'State', 'Error'], map.cache.map((e) => [e.key, e.value, e['desired-action'], e['last-error'] ?? '']));
}

/** The agent's policy map entry key, "Ingress: identity=1000 TCP/80", as upstream's `bpf policy get` columns. */
/** Upstream's columns; the value is the verdict, then the entry's counters (`Allow packets=3 bytes=180`). */
export function formatPolicyMap(map: BPFMap): string {
  const rows = map.cache.map((e) => {
    const m = /^(Ingress|Egress): identity=(\d+) (\S+)$/.exec(e.key);
    const v = /^(.*?)(?: packets=(\d+) bytes=(\d+))?$/.exec(e.value)!;
    const counters = [v[3] ?? '', v[2] ?? ''];
    return m ? [v[1]!, m[1]!, m[2]!, m[3]!, ...counters] : [v[1]!, '', '', e.key, ...counters];
  });
  return formatTable(['POLICY', 'DIRECTION', 'IDENTITY', 'PORT/PROTO', 'BYTES', 'PACKETS'], rows);
}

/** Longest-prefix match of an address against the ipcache entries' prefixes. */
export function lookupIpcache(map: BPFMap, address: string): BPFMap['cache'][number] | undefined {
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family) throw new CliError(`bpf ipcache get ${address}: not an IP address`);
  let best: { entry: BPFMap['cache'][number]; len: number } | undefined;
  for (const entry of map.cache) {
    const [net, lenText] = entry.key.split('/');
    const len = Number(lenText);
    if (!net || Number.isNaN(len) || (family === 'ipv4') !== isIPv4(net)) continue;
    const list = new BlockList();
    list.addSubnet(net, len, family);
    if (list.check(address, family) && (!best || len > best.len)) best = { entry, len };
  }
  return best?.entry;
}

async function dumpMap(client: AgentClient, name: string, what: string): Promise<BPFMap> {
  try {
    return await client.get<BPFMap>(`/v1/map/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof AgentApiError && err.status === 404) {
      throw new CliError(`${what}: the agent has no map ${name} (its datapath is not loaded)`);
    }
    throw err;
  }
}

export function registerMap(program: Command, ctx: CommandContext): void {
  const map = program.command('map').description("Access the agent's BPF maps (with their desired-state cache)");
  map
    .command('list')
    .description('List maps')
    .action(async () => {
      const list = await ctx.client().get<BPFMapList>('/v1/map');
      ctx.print(list, () => formatMapList(list));
    });
  map
    .command('get <name>')
    .description("Display a map's cached entries")
    .action(async (name: string) => {
      const m = await dumpMap(ctx.client(), name, `map get ${name}`);
      ctx.print(m, () => formatMapEntries(m));
    });
}

export function registerBpf(program: Command, ctx: CommandContext): void {
  const bpf = program.command('bpf').description('Inspect the datapath maps');

  const ipcache = bpf.command('ipcache').description('The IP to identity cache');
  ipcache
    .command('list')
    .description('List ipcache entries')
    .action(async () => {
      const m = await dumpMap(ctx.client(), 'cilium_ipcache', 'bpf ipcache list');
      ctx.print(m.cache, () => formatTable(['IP PREFIX/ADDRESS', 'IDENTITY'], m.cache.map((e) => [e.key, e.value])));
    });
  ipcache
    .command('get <address>')
    .description('Look an address up (longest prefix match)')
    .action(async (address: string) => {
      const m = await dumpMap(ctx.client(), 'cilium_ipcache', 'bpf ipcache get');
      const hit = lookupIpcache(m, address);
      if (!hit) throw new CliError(`${address} does not map to any identity`);
      ctx.print(hit, () => `${address} maps to ${hit.value} (prefix ${hit.key})`);
    });

  bpf
    .command('policy')
    .description("An endpoint's policy map")
    .command('get <endpoint>')
    .description('List the policy map entries of an endpoint (id, container-id:<id>, pod-name:<ns>:<name>)')
    .action(async (ref: string) => {
      const client = ctx.client();
      const ep = await client.get<Endpoint>(`/v1/endpoint/${encodeURIComponent(ref)}`);
      const m = await dumpMap(client, `cilium_policy_${String(ep.id).padStart(5, '0')}`, 'bpf policy get');
      ctx.print(m.cache, () => formatPolicyMap(m));
    });

  bpf
    .command('ct')
    .description('The connection tracking tables')
    .command('list <scope>')
    .description('List connection tracking entries (scope: global)')
    .action(async (scope: string) => {
      if (scope !== 'global') throw new CliError(`bpf ct list ${scope}: only "global" is supported`);
      const m = await dumpMap(ctx.client(), 'cilium_ct4_global', 'bpf ct list global');
      ctx.print(m.cache, () => m.cache.map((e) => `${e.key} ${e.value}`).join('\n'));
    });

  bpf
    .command('metrics')
    .description('Datapath drop and forward counters')
    .command('list')
    .description('List the datapath metrics')
    .action(async () => {
      const m = await dumpMap(ctx.client(), 'cilium_metrics', 'bpf metrics list');
      ctx.print(m.cache, () => formatTable(['KEY', 'VALUE'], m.cache.map((e) => [e.key, e.value])));
    });
}
