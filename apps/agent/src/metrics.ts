// The agent's Prometheus metrics, with upstream's names (cilium_*). Gauges that mirror state are computed
// from the tables when scraped, so they cannot drift. prom-client and fastify are loaded only when used.
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Metric } from '@cilium-ts/agent-api';
import type { AgentTables } from './agent-tables.js';
import type { HealthRegistry } from './health.js';
import type { Ipam } from './ipam.js';
import type { PolicyRepository } from './seams.js';

export interface MetricsSources {
  tables: AgentTables;
  health: HealthRegistry;
  ipam?: Ipam;
  policy?: PolicyRepository;
}

export interface AgentMetrics {
  registry: Registry;
  endpointRegeneration(outcome: 'success' | 'failure', seconds: number): void;
  mapOperation(mapName: string, operation: string, outcome: 'success' | 'fail'): void;
  apiRequest(method: string, path: string, returnCode: number, seconds: number): void;
  /** Every sample, flattened (GET /v1/metrics/). */
  list(): Promise<Metric[]>;
}

const ENDPOINT_STATES = ['waiting-for-identity', 'not-ready', 'waiting-to-regenerate', 'regenerating', 'restoring', 'ready', 'disconnecting'];

function identityType(id: number): string {
  if (id < 256) return 'reserved';
  if (id >= 1 << 24) return 'node_local';
  return 'cluster_local';
}

export async function createAgentMetrics(sources: MetricsSources): Promise<AgentMetrics> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  const { tables, health } = sources;

  new prom.Gauge({
    name: 'cilium_endpoint',
    help: 'Number of endpoints managed by this agent',
    registers: [registry],
    collect() {
      this.set(tables.endpoints.size);
    },
  });
  new prom.Gauge({
    name: 'cilium_endpoint_state',
    help: 'Count of all endpoints, tagged by different endpoint states',
    labelNames: ['endpoint_state'],
    registers: [registry],
    collect() {
      const counts = new Map(ENDPOINT_STATES.map((s) => [s, 0]));
      for (const ep of tables.endpoints.list()) counts.set(ep.state, (counts.get(ep.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ endpoint_state: state }, n);
    },
  });
  const regenerations = new prom.Counter({
    name: 'cilium_endpoint_regenerations_total',
    help: 'Count of all endpoint regenerations that have completed, tagged by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  regenerations.inc({ outcome: 'success' }, 0);
  regenerations.inc({ outcome: 'failure' }, 0);
  const regenTime = new prom.Histogram({
    name: 'cilium_endpoint_regeneration_time_stats_seconds',
    help: 'Endpoint regeneration time stats labeled by the scope',
    labelNames: ['scope'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new prom.Gauge({
    name: 'cilium_policy',
    help: 'Number of policies currently loaded',
    registers: [registry],
    collect() {
      this.set(sources.policy?.rules().length ?? 0);
    },
  });
  new prom.Gauge({
    name: 'cilium_policy_max_revision',
    help: 'Highest policy revision number in the agent',
    registers: [registry],
    collect() {
      this.set(sources.policy?.revision() ?? 0);
    },
  });
  new prom.Gauge({
    name: 'cilium_identity',
    help: 'Number of identities currently allocated, used by local endpoints',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      const counts = new Map([
        ['reserved', 0],
        ['cluster_local', 0],
        ['node_local', 0],
      ]);
      for (const row of tables.identities.list()) counts.set(identityType(row.id), (counts.get(identityType(row.id)) ?? 0) + 1);
      for (const [type, n] of counts) this.set({ type }, n);
    },
  });
  new prom.Gauge({
    name: 'cilium_ip_addresses',
    help: 'Number of allocated IP addresses',
    labelNames: ['family'],
    registers: [registry],
    collect() {
      this.set({ family: 'ipv4' }, sources.ipam?.count(4) ?? 0);
      this.set({ family: 'ipv6' }, sources.ipam?.count(6) ?? 0);
    },
  });
  new prom.Gauge({
    name: 'cilium_controllers_failing',
    help: 'Number of failing controllers (agent modules reporting degraded health)',
    registers: [registry],
    collect() {
      this.set(health.failing().length);
    },
  });
  const mapOps = new prom.Counter({
    name: 'cilium_bpf_map_ops_total',
    help: 'Total operations on map, tagged by map name',
    labelNames: ['map_name', 'operation', 'outcome'],
    registers: [registry],
  });
  const apiTime = new prom.Histogram({
    name: 'cilium_api_process_time_seconds',
    help: 'Duration of processed API calls labeled by path, method and return code.',
    labelNames: ['path', 'method', 'return_code'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  prom.collectDefaultMetrics({ register: registry });
  // prom-client exports these totals as gauges named *_total, which Prometheus' own linter rejects;
  // the per-type gauges without the suffix carry the same information.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }

  return {
    registry,
    endpointRegeneration(outcome, seconds) {
      regenerations.inc({ outcome });
      regenTime.observe({ scope: 'total' }, seconds);
    },
    mapOperation(mapName, operation, outcome) {
      mapOps.inc({ map_name: mapName, operation, outcome });
    },
    apiRequest(method, path, returnCode, seconds) {
      apiTime.observe({ method, path, return_code: String(returnCode) }, seconds);
    },
    async list() {
      const out: Metric[] = [];
      for (const m of await registry.getMetricsAsJSON()) {
        for (const v of m.values) {
          const labels: Record<string, string> = {};
          for (const [k, val] of Object.entries(v.labels)) labels[k] = String(val);
          out.push({ name: 'metricName' in v && typeof v.metricName === 'string' ? v.metricName : m.name, value: v.value, labels });
        }
      }
      return out;
    },
  };
}

/** Parses [host]:port; an empty host means all interfaces, as upstream's ":9962". */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) throw new Error(`metrics-address: must be [host]:port, got "${address}"`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(m[2]) };
}

/** Serves GET /metrics of a registry; resolves with the server and the address it listens on (port 0 picks one). */
export async function serveMetrics(registry: Registry, address: string): Promise<{ server: FastifyInstance; url: string }> {
  const { default: fastify } = await import('fastify');
  const server = fastify();
  server.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  const { host, port } = parseListenAddress(address);
  await server.listen({ host, port });
  const bound = server.server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { server, url: `http://${shownHost}:${boundPort}/metrics` };
}
