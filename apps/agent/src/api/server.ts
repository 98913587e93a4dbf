// The agent's REST API: upstream's /v1 paths on a root-only unix socket.
import { chmod, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { FlowSchema, toHubbleJsonString } from '@cilium-ts/proto';
import type { AgentObserver } from '../hubble/agent-observer.js';
import type { AgentConfig } from '../config.js';
import { configToMap } from '../config.js';
import { parseEndpointRef, type EndpointRecord } from '../endpoint.js';
import type { EndpointCreateRequest, EndpointManager, EndpointPatch } from '../endpoint-manager.js';
import type { HealthRegistry } from '../health.js';
import type { Ipam, IpamAllocation } from '../ipam.js';
import type { AgentMetrics } from '../metrics.js';
import type { AllocatedIdentity, IdentityAllocator, MapInspector, PolicyRepository } from '../seams.js';
import { ApiRequestError, toApiError } from './errors.js';
import type {
  ClusterNodesResponse,
  DaemonConfiguration,
  DaemonConfigurationPatch,
  EndpointChangeRequest,
  Identity,
  IPAMResponse,
  LabelsPatch,
  NodeAddressing,
  NodeElement,
  Policy,
  PolicyExplainPeer,
  PolicyExplainRequest,
  Status,
  StatusResponse,
} from '@cilium-ts/agent-api';

export interface ApiContext {
  config: AgentConfig;
  health: HealthRegistry;
  endpoints: EndpointManager;
  ipam: Ipam;
  identity: IdentityAllocator;
  policy: PolicyRepository;
  maps: MapInspector;
  nodes: () => NodeElement[];
  metrics?: AgentMetrics;
  kvstore: () => Status;
  hubble: () => Status;
  /** Labels of any pod of the cluster (its source of truth), for explaining flows to or from remote pods. */
  podLabels?: (namespace: string, name: string) => string[] | undefined;
  /** Live flows for GET /v1/monitor; absent without a datapath. */
  observer?: AgentObserver | undefined;
  /** Called after PATCH /v1/config changed the enforcement mode. */
  onPolicyEnforcementChange?: () => void;
}

const LABELS = { type: 'array', items: { type: 'string' } } as const;

const endpointChangeSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'integer', minimum: 0, maximum: 4095 },
    'container-id': { type: 'string' },
    'container-name': { type: 'string' },
    labels: LABELS,
    'interface-name': { type: 'string', maxLength: 15 },
    'interface-index': { type: 'integer', minimum: 0 },
    state: { type: 'string' },
    mac: { type: 'string', pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' },
    'host-mac': { type: 'string', pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' },
    addressing: {
      type: 'object',
      additionalProperties: false,
      properties: { ipv4: { type: 'string', format: 'ipv4' }, ipv6: { type: 'string', format: 'ipv6' } },
    },
    'k8s-pod-name': { type: 'string' },
    'k8s-namespace': { type: 'string' },
    'netns-path': { type: 'string' },
    'sync-build-endpoint': { type: 'boolean' },
    // Upstream fields we accept and do not use.
    'policy-enabled': { type: 'boolean' },
    'datapath-configuration': { type: 'object' },
    'netns-cookie': { type: 'string' },
    'k8s-uid': { type: 'string' },
    'pod-stack-trace': { type: 'string' },
  },
} as const;

function toCreate(body: EndpointChangeRequest): EndpointPatch {
  const out: EndpointPatch = {};
  const set = <K extends keyof EndpointPatch>(k: K, v: EndpointPatch[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('containerId', body['container-id']);
  set('containerName', body['container-name']);
  set('labels', body.labels);
  set('interfaceName', body['interface-name']);
  set('interfaceIndex', body['interface-index']);
  set('mac', body.mac);
  set('hostMac', body['host-mac']);
  set('ipv4', body.addressing?.ipv4);
  set('ipv6', body.addressing?.ipv6);
  set('podName', body['k8s-pod-name']);
  set('namespace', body['k8s-namespace']);
  set('netnsPath', body['netns-path']);
  return out;
}

function hostAddressing(ctx: ApiContext): NodeAddressing {
  const v6 = ctx.ipam.cidr(6);
  return {
    ipv4: { enabled: true, ip: ctx.ipam.gateway(4)!, 'alloc-range': ctx.ipam.cidr(4)! },
    ipv6: v6 ? { enabled: true, ip: ctx.ipam.gateway(6)!, 'alloc-range': v6 } : { enabled: false },
  };
}

function identityOf(i: AllocatedIdentity): Identity {
  return { id: i.id, labels: [...i.labels] };
}

/** Parses a policy import body: JSON (an object, an array or a List with items) or YAML (one or more documents). */
const MONITOR_TYPES: Record<string, number> = { drop: 1, trace: 4, 'policy-verdict': 5 };

/** `drop,trace` to the event types they name; undefined for all. */
function monitorTypes(text: string | undefined): Set<number> | undefined {
  if (!text) return undefined;
  const out = new Set<number>();
  for (const t of text.split(',')) {
    const n = MONITOR_TYPES[t];
    if (n === undefined) throw new ApiRequestError(400, 'invalid-request', `type: "${t}" is not one of ${Object.keys(MONITOR_TYPES).join(', ')}`);
    out.add(n);
  }
  return out;
}

async function policyDocuments(body: unknown): Promise<unknown[]> {
  if (typeof body === 'string') {
    const { parseAllDocuments } = await import('yaml');
    const docs = parseAllDocuments(body);
    const list = Array.isArray(docs) ? docs : [docs];
    const out: unknown[] = [];
    list.forEach((d, i) => {
      if (d.errors.length) throw new ApiRequestError(400, 'invalid-policy', `document ${i}: ${d.errors[0]!.message}`);
      const value: unknown = d.toJS();
      if (value !== null && value !== undefined) out.push(...unwrapList(value));
    });
    return out;
  }
  return unwrapList(body);
}

function unwrapList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(unwrapList);
  const v = value as { kind?: unknown; items?: unknown };
  if (v && typeof v === 'object' && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) return v.items;
  return [value];
}

function ipamResponse(ctx: ApiContext, allocs: IpamAllocation[]): IPAMResponse {
  const res: IPAMResponse = { address: {}, 'host-addressing': hostAddressing(ctx) };
  for (const a of allocs) {
    const fam = a.family === 4 ? 'ipv4' : 'ipv6';
    res.address[fam] = a.ip;
    res[fam] = { ip: a.ip, gateway: a.gateway, cidrs: [a.cidr] };
  }
  return res;
}

export async function createApiServer(ctx: ApiContext): Promise<FastifyInstance> {
  const { default: fastify } = await import('fastify');
  const app = fastify({ ajv: { customOptions: { allErrors: false, coerceTypes: false } } });

  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );
  app.addSchema({
    $id: 'peer',
    type: 'object',
    additionalProperties: false,
    properties: { labels: LABELS, identity: { type: 'integer', minimum: 0 }, endpoint: { type: 'string' } },
  });

  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = toApiError(err);
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ code: 'not-found', message: `no such API path: ${req.method} ${req.url}` });
  });
  if (ctx.metrics) {
    const metrics = ctx.metrics;
    app.addHook('onResponse', async (req, reply) => {
      metrics.apiRequest(req.method, req.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  const findEndpoint = (id: string): EndpointRecord => {
    const ref = parseEndpointRef(id);
    const ep = ctx.endpoints.find(ref);
    if (!ep) throw new ApiRequestError(404, 'endpoint-not-found', `endpoint ${id} not found`);
    return ep;
  };

  app.get('/v1/healthz', async (): Promise<StatusResponse> => {
    const modules = ctx.health.all();
    const failing = ctx.health.failing();
    const stopped = modules.filter((m) => m.level === 'stopped');
    const cilium: Status = stopped.length
      ? { state: 'Failure', msg: `stopped: ${stopped.map((m) => m.module).join(', ')}` }
      : failing.length
        ? { state: 'Warning', msg: `degraded: ${failing.map((m) => `${m.module}: ${m.message}`).join('; ')}` }
        : { state: 'Ok', msg: 'Ok' };
    const allocations = ctx.ipam.allocations();
    return {
      cilium,
      kvstore: ctx.kvstore(),
      kubernetes: { state: 'Disabled', msg: 'not using Kubernetes (sources: API)' },
      cluster: { self: `${ctx.config.clusterName}/${ctx.config.nodeName}`, nodes: ctx.nodes() },
      controllers: modules.map((m) => ({
        name: m.module,
        status: {
          'consecutive-failure-count': m.level === 'degraded' ? 1 : 0,
          ...(m.level === 'ok' ? { 'last-success-timestamp': m.since } : { 'last-failure-timestamp': m.since, 'last-failure-msg': m.message }),
        },
      })),
      ipam: {
        allocations,
        ipv4: Object.keys(allocations).filter((ip) => !ip.includes(':')),
        ipv6: Object.keys(allocations).filter((ip) => ip.includes(':')),
        status: ctx.ipam
          .families()
          .map((f) => `IPv${f}: ${ctx.ipam.count(f)}/${ctx.ipam.capacity(f)} allocated from ${ctx.ipam.cidr(f)}`)
          .join(', '),
      },
      hubble: ctx.hubble(),
      'host-routing': { mode: 'Legacy' },
      routing: { mode: ctx.config.routingMode },
      'policy-enforcement': ctx.config.policyEnforcement,
      'endpoint-count': ctx.endpoints.list().length,
      modules: modules.map((m) => ({ ...m })),
    };
  });

  const daemonConfig = (): DaemonConfiguration => {
    const spec = { options: { Debug: ctx.config.debug ? 'Enabled' : 'Disabled' }, 'policy-enforcement': ctx.config.policyEnforcement };
    return {
      spec,
      status: {
        realized: spec,
        immutable: configToMap(ctx.config),
        addressing: hostAddressing(ctx),
        datapathMode: 'veth',
        'routing-mode': ctx.config.routingMode,
        'ipam-mode': 'host-scope',
      },
    };
  };
  app.get('/v1/config', async () => daemonConfig());
  app.patch<{ Body: DaemonConfigurationPatch }>(
    '/v1/config',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            options: { type: 'object', additionalProperties: { type: 'string' } },
            'policy-enforcement': { type: 'string', enum: ['default', 'always', 'never'] },
          },
        },
      },
    },
    async (req) => {
      for (const [k, v] of Object.entries(req.body.options ?? {})) {
        if (k !== 'Debug') throw new ApiRequestError(400, 'invalid-option', `options.${k}: unknown or immutable option (changeable: Debug)`);
        if (v !== 'Enabled' && v !== 'Disabled') throw new ApiRequestError(400, 'invalid-option', `options.Debug: must be Enabled or Disabled, got "${v}"`);
        ctx.config.debug = v === 'Enabled';
      }
      const mode = req.body['policy-enforcement'];
      if (mode && mode !== ctx.config.policyEnforcement) {
        ctx.config.policyEnforcement = mode;
        ctx.onPolicyEnforcementChange?.();
      }
      return daemonConfig();
    },
  );

  app.get<{ Querystring: { labels?: string } }>('/v1/endpoint', async (req) => {
    const want = req.query.labels ? req.query.labels.split(',').filter(Boolean) : [];
    return ctx.endpoints
      .list()
      .filter((e) => want.every((l) => e.labels.some((have) => have === l || have.endsWith(`:${l}`) || have === `${l}=`)))
      .map((e) => ctx.endpoints.toApi(e));
  });
  // Upstream's EndpointBatchDeleteRequest (CNI DEL): delete every endpoint of a container.
  app.delete<{ Body: { 'container-id': string } }>(
    '/v1/endpoint',
    { schema: { body: { type: 'object', required: ['container-id'], additionalProperties: false, properties: { 'container-id': { type: 'string', minLength: 1 } } } } },
    async (req) => {
      const matching = ctx.endpoints.list().filter((e) => e.containerId === req.body['container-id']);
      if (!matching.length) throw new ApiRequestError(404, 'endpoint-not-found', `no endpoint with container-id ${req.body['container-id']}`);
      for (const ep of matching) await ctx.endpoints.delete({ kind: 'id', id: ep.id });
      return { deleted: matching.length };
    },
  );
  app.get<{ Params: { id: string } }>('/v1/endpoint/:id', async (req) => ctx.endpoints.toApi(findEndpoint(req.params.id)));
  app.put<{ Params: { id: string }; Body: EndpointChangeRequest }>('/v1/endpoint/:id', { schema: { body: endpointChangeSchema } }, async (req, reply) => {
    const ref = parseEndpointRef(req.params.id);
    const body = req.body;
    const create: EndpointCreateRequest = { labels: [], ...toCreate(body) };
    if (ref.kind === 'id') {
      if (body.id && body.id !== ref.id) throw new ApiRequestError(400, 'invalid-request', `id: body says ${body.id} but the path says ${ref.id}`);
      create.id = ref.id;
    } else if (ref.kind === 'container-id') {
      if (create.containerId && create.containerId !== ref.containerId) {
        throw new ApiRequestError(400, 'invalid-request', `container-id: body says ${create.containerId} but the path says ${ref.containerId}`);
      }
      create.containerId = ref.containerId;
    } else {
      create.namespace = ref.namespace;
      create.podName = ref.podName;
    }
    const ep = await ctx.endpoints.create(create, { wait: body['sync-build-endpoint'] === true });
    return reply.status(201).send(ctx.endpoints.toApi(ep));
  });
  app.patch<{ Params: { id: string }; Body: EndpointChangeRequest }>('/v1/endpoint/:id', { schema: { body: endpointChangeSchema } }, async (req) => {
    const ep = findEndpoint(req.params.id);
    if (req.body.id !== undefined && req.body.id !== ep.id) throw new ApiRequestError(400, 'invalid-request', 'id: an endpoint id cannot be changed');
    const updated = await ctx.endpoints.patch({ kind: 'id', id: ep.id }, toCreate(req.body), { wait: req.body['sync-build-endpoint'] === true });
    return ctx.endpoints.toApi(updated);
  });
  app.delete<{ Params: { id: string } }>('/v1/endpoint/:id', async (req) => {
    const ep = findEndpoint(req.params.id);
    await ctx.endpoints.delete({ kind: 'id', id: ep.id });
    return {};
  });
  app.get<{ Params: { id: string } }>('/v1/endpoint/:id/labels', async (req) => {
    const ep = findEndpoint(req.params.id);
    return { spec: { user: [...ep.labels] }, status: { realized: { user: [...ep.labels] }, 'security-relevant': [...(ep.identityLabels ?? [])] } };
  });
  app.patch<{ Params: { id: string }; Body: LabelsPatch }>(
    '/v1/endpoint/:id/labels',
    { schema: { body: { type: 'object', additionalProperties: false, properties: { add: LABELS, delete: LABELS } } } },
    async (req) => {
      const ep = findEndpoint(req.params.id);
      const updated = await ctx.endpoints.updateLabels({ kind: 'id', id: ep.id }, req.body);
      return ctx.endpoints.toApi(updated);
    },
  );
  app.get<{ Params: { id: string } }>('/v1/endpoint/:id/healthz', async (req) => ctx.endpoints.toApi(findEndpoint(req.params.id)).status.health);
  app.get<{ Params: { id: string } }>('/v1/endpoint/:id/log', async (req) => [...findEndpoint(req.params.id).log]);

  const ipamQuery = {
    type: 'object',
    properties: { family: { type: 'string', enum: ['ipv4', 'ipv6'] }, owner: { type: 'string' }, expiration: { type: 'boolean' } },
  } as const;
  app.post<{ Querystring: { family?: 'ipv4' | 'ipv6'; owner?: string } }>('/v1/ipam', { schema: { querystring: ipamQuery } }, async (req, reply) => {
    const owner = req.query.owner ?? '';
    const families = req.query.family ? [req.query.family === 'ipv4' ? 4 : 6] : ctx.ipam.families();
    const allocs: IpamAllocation[] = [];
    try {
      for (const f of families) allocs.push(await ctx.ipam.allocateNext(f as 4 | 6, owner));
    } catch (err) {
      for (const a of allocs) await ctx.ipam.release(a.ip).catch(() => {});
      throw err;
    }
    return reply.status(201).send(ipamResponse(ctx, allocs));
  });
  app.post<{ Params: { ip: string }; Querystring: { owner?: string } }>('/v1/ipam/:ip', { schema: { querystring: ipamQuery } }, async (req) => {
    await ctx.ipam.allocateIp(req.params.ip, req.query.owner ?? '');
    return {};
  });
  app.delete<{ Params: { ip: string } }>('/v1/ipam/:ip', async (req) => {
    await ctx.ipam.release(req.params.ip);
    return {};
  });

  app.get<{ Querystring: { labels?: string } }>('/v1/identity', async (req) => {
    const want = req.query.labels ? req.query.labels.split(',').filter(Boolean) : [];
    const all = await ctx.identity.list();
    return all.filter((i) => want.every((l) => i.labels.includes(l))).map(identityOf);
  });
  app.get('/v1/identity/endpoints', async () => {
    const all = new Map((await ctx.identity.list()).map((i) => [i.id, i]));
    const used = new Map<number, number>();
    for (const ep of ctx.endpoints.list()) if (ep.identity !== undefined) used.set(ep.identity, (used.get(ep.identity) ?? 0) + 1);
    return [...used].map(([id, refCount]) => ({ identity: identityOf(all.get(id) ?? { id, labels: [] }), refCount }));
  });
  app.get<{ Params: { id: string } }>('/v1/identity/:id', async (req) => {
    if (!/^\d+$/.test(req.params.id)) throw new ApiRequestError(400, 'invalid-identity', `identity "${req.params.id}" is not a number`);
    const i = await ctx.identity.get(Number(req.params.id));
    if (!i) throw new ApiRequestError(404, 'identity-not-found', `identity ${req.params.id} not found`);
    return identityOf(i);
  });

  app.get('/v1/policy', async (): Promise<Policy> => ({ revision: ctx.policy.revision(), policy: JSON.stringify(ctx.policy.rules(), null, 2) }));
  app.put('/v1/policy', async (req): Promise<Policy> => {
    const docs = await policyDocuments(req.body);
    if (docs.length === 0) throw new ApiRequestError(400, 'invalid-policy', 'no policy documents in the request body');
    const { revision } = await ctx.policy.import(docs);
    return { revision, policy: JSON.stringify(docs, null, 2) };
  });
  app.delete<{ Querystring: { labels?: string; all?: string } }>('/v1/policy', async (req) => {
    const labels = req.query.labels ? req.query.labels.split(',').filter(Boolean) : [];
    if (labels.length === 0 && req.query.all !== 'true') {
      throw new ApiRequestError(400, 'invalid-request', 'labels: give the labels of the rules to delete, or all=true to delete every rule');
    }
    const { revision, deleted } = await ctx.policy.delete(labels);
    if (deleted === 0 && labels.length) throw new ApiRequestError(404, 'policy-not-found', `no policy rule carries the labels ${labels.join(',')}`);
    return { revision, deleted };
  });
  app.post('/v1/policy/validate', async (req) => ctx.policy.validate(await policyDocuments(req.body)));
  app.post<{ Body: PolicyExplainRequest }>(
    '/v1/policy/explain',
    {
      schema: {
        body: {
          type: 'object',
          required: ['from', 'to'],
          additionalProperties: false,
          properties: {
            from: { $ref: 'peer#' },
            to: { $ref: 'peer#' },
            dport: { type: 'integer', minimum: 0, maximum: 65535 },
            protocol: { type: 'string', enum: ['TCP', 'UDP', 'SCTP', 'ICMP', 'ANY'] },
          },
        },
      },
    },
    async (req) => {
      const resolve = async (peer: PolicyExplainPeer): Promise<AllocatedIdentity | undefined> => {
        if (peer.identity !== undefined) return ctx.identity.get(peer.identity);
        if (peer.endpoint) {
          const ref = parseEndpointRef(peer.endpoint);
          const local = ctx.endpoints.find(ref);
          // A pod on another node is not an endpoint here; its labels still say which rules select it.
          const remote = !local && ref.kind === 'pod-name' ? ctx.podLabels?.(ref.namespace, ref.podName) : undefined;
          if (remote) return { id: 0, labels: remote };
          const ep = local ?? findEndpoint(peer.endpoint);
          return ep.identity !== undefined ? { id: ep.identity, labels: [...(ep.identityLabels ?? ep.labels)] } : undefined;
        }
        return undefined;
      };
      return ctx.policy.explain(req.body, resolve);
    },
  );
  app.get('/v1/map', async () => ({ maps: await ctx.maps.list() }));
  app.get<{ Params: { name: string } }>('/v1/map/:name', async (req) => {
    const map = await ctx.maps.dump(req.params.name);
    if (!map) throw new ApiRequestError(404, 'map-not-found', `map ${req.params.name} not found`);
    return map;
  });

  app.get('/v1/cluster/nodes', async (): Promise<ClusterNodesResponse> => ({ self: `${ctx.config.clusterName}/${ctx.config.nodeName}`, nodes: ctx.nodes() }));
  // Ours: the live datapath events as newline-delimited Hubble flow JSON (upstream serves a binary
  // monitor socket); `cilium monitor` reads it.
  app.get<{ Querystring: { type?: string } }>('/v1/monitor', async (req, reply) => {
    const observer = ctx.observer;
    if (!observer) throw new ApiRequestError(503, 'no-datapath', 'this agent observes no datapath events');
    const wanted = monitorTypes(req.query.type);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const off = observer.onFlow((flow) => {
      if (wanted && !wanted.has(flow.eventType?.type ?? -1)) return;
      reply.raw.write(`${toHubbleJsonString(FlowSchema, flow)}\n`);
    });
    req.raw.on('close', off);
  });
  app.get('/v1/metrics/', async () => (ctx.metrics ? ctx.metrics.list() : []));

  return app;
}

/** Listens on a unix socket only root can use (mode 0600), replacing a stale socket file. */
export async function listenUnix(app: FastifyInstance, path: string): Promise<void> {
  if (await socketAnswers(path)) throw new Error(`another process is already serving on ${path}`);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  const oldMask = process.umask(0o177);
  try {
    await app.listen({ path });
  } finally {
    process.umask(oldMask);
  }
  await chmod(path, 0o600);
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
