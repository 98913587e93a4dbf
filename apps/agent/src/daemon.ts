// Assembles the agent from its cells and runs it. Libraries plug in through `AgentSeams`; whatever is not
// given runs as a placeholder (see placeholders.ts) and says so in its module health.
import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { NodeElement, Status } from '@cilium-ts/agent-api';
import { createAgentTables, type AgentTables } from './agent-tables.js';
import { Hive, type Cell } from './cell.js';
import type { AgentConfig } from './config.js';
import { EndpointManager } from './endpoint-manager.js';
import { HealthRegistry } from './health.js';
import { Ipam } from './ipam.js';
import type { AgentMetrics } from './metrics.js';
import {
  DATAPATH_PLACEHOLDER_NOTE,
  IDENTITY_PLACEHOLDER_NOTE,
  InitIdentityPlaceholder,
  NoDatapath,
  NoEnforcementResolver,
  POLICY_PLACEHOLDER_NOTE,
  StoredPolicyPlaceholder,
} from './placeholders.js';
import { DirectoryPodSource, endpointLabelsOf, type PodMetadataSource } from './pod-source.js';
import { Reconciler } from './reconciler.js';
import { AGENT_VERSION } from './version.js';
import type { AgentObserver } from './hubble/agent-observer.js';
import type { HubbleServer, PeerSource } from '@cilium-ts/hubble';
import type { ClusterLookups, DatapathEventSource, DatapathLoader, IdentityAllocator, IpcacheEntry, IpcachePublisher, MapInspector, PolicyRepository, PolicyResolver } from './seams.js';
import { TableMapInspector } from './table-maps.js';

/** The libraries' implementations; each one left out runs as a placeholder. */
export interface AgentSeams {
  identity?: IdentityAllocator;
  policyRepository?: PolicyRepository;
  /** Built from the repository, so it can share its selector cache. */
  policyResolver?: (repository: PolicyRepository) => PolicyResolver;
  datapath?: DatapathLoader;
  maps?: (tables: AgentTables) => MapInspector;
  ipcache?: IpcachePublisher;
  /** Other nodes (from the kvstore); the local node is always listed. */
  nodes?: () => NodeElement[];
  kvstoreStatus?: () => Status;
  /** The datapath's events; without them there are no flows (no Hubble, no monitor). */
  datapathEvents?: DatapathEventSource;
  /** Names of remote identities and addresses for flows. */
  clusterLookups?: ClusterLookups;
  /** The cluster's Hubble servers, for Peer/Notify (the kvstore's node registrations); this node alone without. */
  hubblePeers?: PeerSource;
}

export interface RunningAgent {
  config: AgentConfig;
  health: HealthRegistry;
  tables: AgentTables;
  endpoints: EndpointManager;
  /** The metrics URL when the metrics server runs. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

function podLabels(source: PodMetadataSource, namespace: string, name: string, clusterName = 'default'): string[] | undefined {
  const meta = source.get(namespace, name);
  return meta ? endpointLabelsOf(meta, clusterName) : undefined;
}

export async function startAgent(config: AgentConfig, seams: AgentSeams = {}): Promise<RunningAgent> {
  const health = new HealthRegistry();
  const tables = createAgentTables();
  let metricsUrl: string | undefined;
  const localNode = (): NodeElement => ({
    name: `${config.clusterName}/${config.nodeName}`,
    'primary-address': {
      ipv4: config.nodeIP && !config.nodeIP.includes(':') ? { enabled: true, ip: config.nodeIP, 'alloc-range': config.podCIDR.text } : { enabled: true, 'alloc-range': config.podCIDR.text },
      ipv6: config.podCIDRv6 ? { enabled: true, 'alloc-range': config.podCIDRv6.text } : { enabled: false },
    },
  });

  const cells: Cell[] = [
    {
      name: 'state-dir',
      provides: ['stateDir'],
      async start() {
        await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
        return { stateDir: config.stateDir };
      },
    },
    {
      name: 'ipam',
      provides: ['ipam'],
      needs: ['stateDir'],
      async start(ctx) {
        const ipam = await Ipam.open({ podCIDR: config.podCIDR, ...(config.podCIDRv6 ? { podCIDRv6: config.podCIDRv6 } : {}), stateDir: config.stateDir });
        ctx.health.ok(`host-scope: ${[ipam.cidr(4), ipam.cidr(6)].filter(Boolean).join(', ')}`);
        return { ipam };
      },
    },
    {
      name: 'identity',
      provides: ['identity'],
      start(ctx) {
        if (!seams.identity) ctx.health.ok(IDENTITY_PLACEHOLDER_NOTE);
        return { identity: seams.identity ?? new InitIdentityPlaceholder() };
      },
    },
    {
      name: 'policy',
      provides: ['policyRepository', 'policyResolver'],
      start(ctx) {
        const repo = seams.policyRepository ?? new StoredPolicyPlaceholder();
        if (!seams.policyRepository) ctx.health.ok(POLICY_PLACEHOLDER_NOTE);
        const resolver = seams.policyResolver ? seams.policyResolver(repo) : new NoEnforcementResolver(repo);
        return { policyRepository: repo, policyResolver: resolver };
      },
    },
    {
      name: 'datapath',
      provides: ['datapath'],
      start(ctx) {
        if (!seams.datapath) ctx.health.ok(DATAPATH_PLACEHOLDER_NOTE);
        return { datapath: seams.datapath ?? new NoDatapath() };
      },
    },
    {
      name: 'metrics',
      provides: ['metrics'],
      needs: ['ipam', 'policyRepository'],
      async start(ctx) {
        const { createAgentMetrics } = await import('./metrics.js');
        const metrics = await createAgentMetrics({ tables, health, ipam: ctx.get('ipam'), policy: ctx.get('policyRepository') });
        return { metrics };
      },
    },
    (() => {
      let reconciler: Reconciler<IpcacheEntry> | undefined;
      return {
        name: 'ipcache-sync',
        provides: ['ipcacheReconciler'],
        needs: ['metrics'],
        async start(ctx) {
          if (!seams.ipcache) {
            ctx.health.ok('placeholder: no kvstore (kvstore-endpoints is empty): ipcache entries are kept in the agent, not published');
            return { ipcacheReconciler: undefined };
          }
          const metrics = ctx.get<AgentMetrics>('metrics');
          reconciler = new Reconciler({
            table: tables.ipcache,
            operations: seams.ipcache,
            health: ctx.health,
            onOperation: (op, outcome) => metrics.mapOperation('cilium_ipcache', op, outcome),
          });
          await reconciler.start();
          return { ipcacheReconciler: reconciler };
        },
        stop() {
          reconciler?.stop();
        },
      } satisfies Cell;
    })(),
    (() => {
      let manager: EndpointManager | undefined;
      let unsubscribe: (() => void) | undefined;
      let unsubscribePods: (() => void) | undefined;
      let podSource: DirectoryPodSource | undefined;
      return {
        name: 'endpoint-manager',
        provides: ['endpoints', 'podLabels'],
        needs: ['ipam', 'identity', 'policyRepository', 'policyResolver', 'datapath', 'metrics', 'ipcacheReconciler'],
        async start(ctx) {
          const ipam = ctx.get<Ipam>('ipam');
          const metrics = ctx.get<AgentMetrics>('metrics');
          podSource = config.podSourceDir ? await DirectoryPodSource.open(config.podSourceDir) : undefined;
          const pods = podSource;
          manager = new EndpointManager({
            stateDir: config.stateDir,
            tables,
            identity: ctx.get('identity'),
            policy: ctx.get('policyResolver'),
            datapath: ctx.get('datapath'),
            ipam,
            policyEnforcement: () => config.policyEnforcement,
            ...(config.nodeIP ? { nodeIP: config.nodeIP } : {}),
            hostAddressing: localNode()['primary-address'],
            onRegeneration: (outcome, seconds) => metrics.endpointRegeneration(outcome, seconds),
            ...(pods ? { podLabels: (ns: string, name: string) => podLabels(pods, ns, name, config.clusterName) } : {}),
          });
          const m = manager;
          const unsubscribeRepo = ctx.get<PolicyRepository>('policyRepository').onChange((rev) => void m.regenerateAll(`policy revision ${rev}`));
          const unsubscribeResolver = ctx.get<PolicyResolver>('policyResolver').onInvalidate?.((ids, reason) => {
            for (const id of ids) void m.regenerate(id, reason);
          });
          unsubscribe = () => {
            unsubscribeRepo();
            unsubscribeResolver?.();
          };
          // Labels follow the source of truth, as `kubectl label` does on Kubernetes: identity and policy follow.
          unsubscribePods = pods?.onChange((changed) => {
            for (const { namespace, name } of changed) {
              const ep = m.find({ kind: 'pod-name', namespace, podName: name });
              const labels = podLabels(pods, namespace, name, config.clusterName);
              if (ep && labels) void m.patch({ kind: 'id', id: ep.id }, { labels }).catch(() => undefined);
            }
          });
          const restored = await manager.restore();
          ctx.health.ok(`restored ${restored} endpoint(s) from ${config.stateDir}`);
          const labelsOfPod = (ns: string, name: string) => (pods ? podLabels(pods, ns, name, config.clusterName) : undefined);
          return { endpoints: manager, podLabels: labelsOfPod };
        },
        async stop() {
          unsubscribe?.();
          unsubscribePods?.();
          podSource?.close();
          await manager?.stop();
        },
      } satisfies Cell;
    })(),
    (() => {
      let server: FastifyInstance | undefined;
      return {
        name: 'metrics-server',
        needs: ['metrics'],
        async start(ctx) {
          if (config.metricsAddress === '') {
            ctx.health.ok('disabled (metrics-address is empty)');
            return;
          }
          const { serveMetrics } = await import('./metrics.js');
          const served = await serveMetrics(ctx.get<AgentMetrics>('metrics').registry, config.metricsAddress);
          server = served.server;
          metricsUrl = served.url;
          ctx.health.ok(`serving ${served.url}`);
        },
        async stop() {
          await server?.close();
        },
      } satisfies Cell;
    })(),
    (() => {
      let observer: AgentObserver | undefined;
      let server: HubbleServer | undefined;
      let metricsServer: FastifyInstance | undefined;
      return {
        name: 'hubble',
        provides: ['hubble'],
        async start(ctx) {
          const events = seams.datapathEvents;
          if (!events) {
            ctx.health.ok('disabled: no datapath events to observe');
            return { hubble: undefined };
          }
          const { AgentObserver, agentFlowLookups } = await import('./hubble/agent-observer.js');
          const { HubbleMetrics, startHubbleServer } = await import('@cilium-ts/hubble');
          const metrics = config.hubbleMetricsServer ? new HubbleMetrics(config.hubbleMetrics) : undefined;
          observer = new AgentObserver({
            nodeName: config.nodeName,
            version: AGENT_VERSION,
            lookups: agentFlowLookups(tables, seams.clusterLookups, config.clusterName),
            events,
            ...(metrics ? { metrics } : {}),
          });
          if (metrics) {
            const { serveMetrics } = await import('./metrics.js');
            metricsServer = (await serveMetrics(metrics.registry, config.hubbleMetricsServer)).server;
          }
          await mkdir(dirOf(config.hubbleSocketPath), { recursive: true, mode: 0o755 });
          server = await startHubbleServer({
            observer: observer.observer,
            nodeName: config.nodeName,
            version: AGENT_VERSION,
            unixSocket: config.hubbleSocketPath,
            ...(config.hubblePort > 0 ? { tcp: { port: config.hubblePort } } : {}),
            ...(seams.hubblePeers ? { peers: seams.hubblePeers } : {}),
          });
          ctx.health.ok(`Hubble server on ${[server.unixSocket, server.tcp ? `:${server.tcp.port}` : ''].filter(Boolean).join(' and ')}`);
          return { hubble: observer };
        },
        async stop() {
          await server?.close();
          await metricsServer?.close();
          observer?.close();
        },
      } satisfies Cell;
    })(),
    (() => {
      let server: FastifyInstance | undefined;
      return {
        name: 'api',
        needs: ['endpoints', 'podLabels', 'ipam', 'identity', 'policyRepository', 'metrics', 'ipcacheReconciler', 'hubble'],
        async start(ctx) {
          const { createApiServer, listenUnix } = await import('./api/server.js');
          const endpoints = ctx.get<EndpointManager>('endpoints');
          const maps = seams.maps
            ? seams.maps(tables)
            : new TableMapInspector(tables, config.bpfRoot, { ipcache: ctx.get<Reconciler<IpcacheEntry> | undefined>('ipcacheReconciler') });
          server = await createApiServer({
            config,
            health,
            endpoints,
            ipam: ctx.get('ipam'),
            identity: ctx.get('identity'),
            policy: ctx.get('policyRepository'),
            maps,
            metrics: ctx.get('metrics'),
            nodes: () => [localNode(), ...(seams.nodes?.() ?? [])],
            kvstore: () =>
              seams.kvstoreStatus?.() ??
              (config.kvstoreEndpoints.length
                ? { state: 'Warning', msg: `placeholder: kvstore client not wired (configured: ${config.kvstoreEndpoints.join(',')})` }
                : { state: 'Disabled', msg: 'no kvstore-endpoints configured' }),
            hubble: () => hubbleStatus(ctx.get<AgentObserver | undefined>('hubble')),
            observer: ctx.get<AgentObserver | undefined>('hubble'),
            podLabels: ctx.get<(ns: string, name: string) => string[] | undefined>('podLabels'),
            onPolicyEnforcementChange: () => void endpoints.regenerateAll('policy enforcement mode changed'),
          });
          await mkdir(dirOf(config.socketPath), { recursive: true, mode: 0o755 });
          await listenUnix(server, config.socketPath);
          ctx.health.ok(`serving ${config.socketPath}`);
        },
        async stop() {
          // fastify removes the socket file when it closes a unix listener.
          await server?.close();
        },
      } satisfies Cell;
    })(),
  ];

  const hive = new Hive(cells, health);
  await hive.start();
  const agent: RunningAgent = {
    config,
    health,
    tables,
    endpoints: hive.get('endpoints'),
    stop: () => hive.stop(),
  };
  if (metricsUrl) agent.metricsUrl = metricsUrl;
  return agent;
}

/** `cilium status`'s Hubble line: upstream prints the ring's fill and the flow rate. */
function hubbleStatus(observer: AgentObserver | undefined): Status {
  if (!observer) return { state: 'Disabled', msg: 'no datapath events to observe' };
  const s = observer.observer.serverStatus();
  return { state: 'Ok', msg: `Current/Max Flows: ${s.numFlows}/${s.maxFlows}, Flows/s: ${s.flowsRate.toFixed(2)}` };
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}
