// Creates, restores, regenerates and deletes endpoints. Regeneration is a pipeline of pluggable steps:
// identity (IdentityAllocator) -> policy (PolicyResolver) -> datapath (DatapathLoader) -> ipcache table.
// Regenerations of one endpoint run one at a time; requests arriving meanwhile collapse into one more run.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EndpointPolicyEnabled, EndpointState, NodeAddressing } from '@cilium-ts/agent-api';
import { policyEntryKey, type AgentTables } from './agent-tables.js';
import { MAX_ENDPOINT_ID, MIN_ENDPOINT_ID, formatEndpointRef, toApiEndpoint, withLog, type EndpointRecord, type EndpointRef } from './endpoint.js';
import type { Ipam } from './ipam.js';
import type { DatapathLoader, EndpointPolicyResult, EndpointView, IdentityAllocator, PolicyResolver } from './seams.js';
import { readJsonIfExists, writeJsonAtomic } from './state-file.js';

export interface EndpointCreateRequest {
  id?: number;
  containerId?: string;
  containerName?: string;
  namespace?: string;
  podName?: string;
  labels: readonly string[];
  ipv4?: string;
  ipv6?: string;
  interfaceName?: string;
  interfaceIndex?: number;
  netnsPath?: string;
  mac?: string;
  hostMac?: string;
}

export type EndpointPatch = Partial<Omit<EndpointCreateRequest, 'id'>>;

export class EndpointError extends Error {
  override name = 'EndpointError';
  constructor(
    message: string,
    readonly reason: 'exists' | 'not-found' | 'invalid' | 'exhausted' | 'regeneration-failed',
  ) {
    super(message);
  }
}

export interface EndpointManagerDeps {
  stateDir: string;
  tables: AgentTables;
  identity: IdentityAllocator;
  policy: PolicyResolver;
  datapath: DatapathLoader;
  ipam?: Ipam;
  /** The current enforcement mode (it can change at run time through PATCH /v1/config). */
  policyEnforcement?: () => 'default' | 'always' | 'never';
  nodeIP?: string;
  hostAddressing?: NodeAddressing;
  onRegeneration?: (outcome: 'success' | 'failure', seconds: number) => void;
  /** Labels of a pod from the source of truth (Kubernetes or the lab), for endpoints created without labels. */
  podLabels?: (namespace: string, podName: string) => string[] | undefined;
  /** First retry delay of a failed regeneration; doubles up to a minute. */
  retryBaseMs?: number;
}

const LABEL = /^([A-Za-z0-9._-]+:)?[A-Za-z0-9./_-]+(=[^\s]*)?$/;

/** Upstream's label form source:key[=value] (no "=" when the value is empty); a label without a source
 *  gets "unspec", as upstream's parser does. */
export function normalizeLabels(labels: readonly string[]): string[] {
  const out = new Set<string>();
  labels.forEach((l, i) => {
    if (!LABEL.test(l)) throw new EndpointError(`labels[${i}]: "${l}" is not a label of the form [source:]key[=value]`, 'invalid');
    const withSource = /^[A-Za-z0-9._-]+:/.test(l) ? l : `unspec:${l}`;
    out.add(withSource.endsWith('=') ? withSource.slice(0, -1) : withSource);
  });
  return [...out].sort();
}

function labelKey(label: string): string {
  const eq = label.indexOf('=');
  return eq < 0 ? label : label.slice(0, eq);
}

function sameLabels(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return !!a && a.length === b.length && a.every((l, i) => l === b[i]);
}

function enabledOf(r: EndpointPolicyResult): EndpointPolicyEnabled {
  if (r.ingressEnforced && r.egressEnforced) return 'both';
  if (r.ingressEnforced) return 'ingress';
  if (r.egressEnforced) return 'egress';
  return 'none';
}

function view(rec: EndpointRecord): EndpointView {
  return rec;
}

export class EndpointManager {
  private readonly queued = new Map<number, Promise<void>>();
  private readonly running = new Map<number, Promise<void>>();
  private readonly retries = new Map<number, { timer: NodeJS.Timeout; attempts: number }>();
  /** Identity each endpoint holds a reference on in this process (restored records do not hold one yet). */
  private readonly held = new Map<number, number>();
  private stopped = false;

  constructor(private readonly deps: EndpointManagerDeps) {}

  private get dir(): string {
    return join(this.deps.stateDir, 'endpoints');
  }

  list(): EndpointRecord[] {
    return this.deps.tables.endpoints.list();
  }

  get(id: number): EndpointRecord | undefined {
    return this.deps.tables.endpoints.get(String(id).padStart(5, '0'));
  }

  find(ref: EndpointRef): EndpointRecord | undefined {
    const t = this.deps.tables.endpoints;
    switch (ref.kind) {
      case 'id':
        return this.get(ref.id);
      case 'container-id':
        return t.getBy('container-id', ref.containerId)[0];
      case 'pod-name':
        return t.getBy('pod-name', `${ref.namespace}/${ref.podName}`)[0];
    }
  }

  policyEntries(id: number) {
    return this.deps.tables.policy.getBy('endpoint', String(id)).map((r) => r.entry);
  }

  toApi(rec: EndpointRecord) {
    return toApiEndpoint(rec, this.policyEntries(rec.id), this.deps.hostAddressing ?? { ipv4: { enabled: true }, ipv6: { enabled: false } });
  }

  /** Restores endpoints from the state dir and regenerates them; returns how many. */
  async restore(): Promise<number> {
    let files: string[];
    try {
      files = (await readdir(this.dir)).filter((f) => /^\d+\.json$/.test(f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const restored: EndpointRecord[] = [];
    for (const f of files) {
      const rec = (await readJsonIfExists(join(this.dir, f))) as EndpointRecord | undefined;
      if (!rec || typeof rec.id !== 'number') continue;
      // attach() runs again (it must be idempotent): the new process re-opens the pinned programs and maps.
      restored.push(withLog({ ...rec, attached: false }, 'ok', 'restored from state dir', 'restoring'));
    }
    for (const rec of restored) this.deps.tables.endpoints.upsert(rec);
    await Promise.all(restored.map((rec) => this.regenerate(rec.id, 'restore')));
    return restored.length;
  }

  /** Creates an endpoint; with `wait`, resolves after its first regeneration and fails if that failed. */
  async create(req: EndpointCreateRequest, opts: { wait?: boolean } = {}): Promise<EndpointRecord> {
    // The CNI plugin knows only the pod's name; its labels come from the source of truth, as upstream's
    // agent takes them from the Kubernetes pod.
    const fromSource = req.labels.length === 0 && req.namespace && req.podName ? this.deps.podLabels?.(req.namespace, req.podName) : undefined;
    const labels = normalizeLabels(fromSource ?? req.labels);
    const t = this.deps.tables.endpoints;
    if (req.containerId && t.getBy('container-id', req.containerId).length) {
      throw new EndpointError(`endpoint with container-id ${req.containerId} already exists`, 'exists');
    }
    if (req.namespace && req.podName && t.getBy('pod-name', `${req.namespace}/${req.podName}`).length) {
      throw new EndpointError(`endpoint for pod ${req.namespace}/${req.podName} already exists`, 'exists');
    }
    for (const ip of [req.ipv4, req.ipv6]) {
      const other = ip ? t.getBy('ip', ip)[0] : undefined;
      if (other) throw new EndpointError(`IP ${ip} is already used by endpoint ${other.id}`, 'exists');
    }
    const id = this.allocateId(req.id);
    const { id: _ignored, labels: _l, ...rest } = req;
    const rec: EndpointRecord = withLog(
      { ...rest, id, labels, state: 'waiting-for-identity', policyRevision: 0, policyEnabled: 'none', attached: false, createdAt: new Date().toISOString(), log: [] },
      'ok',
      'endpoint created',
      'waiting-for-identity',
    );
    t.upsert(rec);
    await this.persist(rec);
    const regen = this.regenerate(id, 'endpoint created');
    if (opts.wait) {
      await regen;
      const now = this.get(id);
      if (now?.state !== 'ready') {
        throw new EndpointError(`endpoint ${id}: ${now?.log[0]?.message ?? 'regeneration did not complete'}`, 'regeneration-failed');
      }
      return now;
    }
    return rec;
  }

  /** Changes an endpoint's attributes (not its id); regenerates it. */
  async patch(ref: EndpointRef, patch: EndpointPatch, opts: { wait?: boolean } = {}): Promise<EndpointRecord> {
    const rec = this.require(ref);
    const next: EndpointRecord = { ...rec, ...patch, labels: patch.labels ? normalizeLabels(patch.labels) : rec.labels };
    for (const ip of [rec.ipv4, rec.ipv6]) {
      if (ip && ip !== next.ipv4 && ip !== next.ipv6) this.withdrawIpcache(ip);
    }
    this.deps.tables.endpoints.upsert(next);
    await this.persist(next);
    const regen = this.regenerate(rec.id, 'endpoint patched');
    if (opts.wait) await regen;
    return this.get(rec.id)!;
  }

  /** Adds/replaces and removes labels (by key); the endpoint gets the identity of its new labels. */
  async updateLabels(ref: EndpointRef, change: { add?: readonly string[]; delete?: readonly string[] }): Promise<EndpointRecord> {
    const rec = this.require(ref);
    const add = normalizeLabels(change.add ?? []);
    const del = new Set(normalizeLabels(change.delete ?? []).map(labelKey));
    const byKey = new Map(rec.labels.map((l) => [labelKey(l), l]));
    for (const k of del) byKey.delete(k);
    for (const l of add) byKey.set(labelKey(l), l);
    const labels = [...byKey.values()].sort();
    const next: EndpointRecord = { ...rec, labels };
    this.deps.tables.endpoints.upsert(next);
    await this.persist(next);
    await this.regenerate(rec.id, 'labels changed');
    return this.get(rec.id)!;
  }

  async delete(ref: EndpointRef): Promise<EndpointRecord> {
    const rec = this.require(ref);
    this.cancelRetry(rec.id);
    const leaving = withLog(rec, 'ok', 'endpoint deleted', 'disconnecting');
    this.deps.tables.endpoints.upsert(leaving);
    await this.running.get(rec.id);
    const errors: string[] = [];
    try {
      if (rec.attached) await this.deps.datapath.detach(view(rec));
    } catch (err) {
      errors.push(`detach: ${(err as Error).message}`);
    }
    this.deps.tables.policy.deleteWhere((r) => r.endpointId === rec.id);
    this.deps.policy.forget?.(rec.id);
    for (const ip of [rec.ipv4, rec.ipv6]) {
      if (!ip) continue;
      this.withdrawIpcache(ip);
      await this.deps.ipam?.release(ip).catch(() => {});
    }
    await this.releaseIdentity(rec.id).catch((err: Error) => errors.push(`release identity: ${err.message}`));
    this.deps.tables.endpoints.delete(String(rec.id).padStart(5, '0'));
    await rm(join(this.dir, `${rec.id}.json`), { force: true });
    if (errors.length) console.warn(`endpoint ${rec.id} deleted with errors: ${errors.join('; ')}`);
    return { ...leaving, state: 'disconnected' };
  }

  /** Regenerates every endpoint, e.g. after a policy change. */
  async regenerateAll(reason: string): Promise<void> {
    await Promise.all(this.list().map((e) => this.regenerate(e.id, reason)));
  }

  /** Queues a regeneration; resolves when it has run (it never rejects: failures are the endpoint's state). */
  regenerate(id: number, reason: string): Promise<void> {
    const queued = this.queued.get(id);
    if (queued) return queued;
    const prev = this.running.get(id) ?? Promise.resolve();
    const run = prev.then(() => {
      this.queued.delete(id);
      return this.pipeline(id, reason);
    });
    this.queued.set(id, run);
    const tracked: Promise<void> = run.finally(() => {
      if (this.running.get(id) === tracked) this.running.delete(id);
    });
    this.running.set(id, tracked);
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.retries.keys()]) this.cancelRetry(id);
    await Promise.all([...this.running.values()]);
  }

  private require(ref: EndpointRef): EndpointRecord {
    const rec = this.find(ref);
    if (!rec) throw new EndpointError(`endpoint ${formatEndpointRef(ref)} not found`, 'not-found');
    return rec;
  }

  private allocateId(wanted?: number): number {
    if (wanted !== undefined && wanted !== 0) {
      if (!Number.isInteger(wanted) || wanted < MIN_ENDPOINT_ID || wanted > MAX_ENDPOINT_ID) {
        throw new EndpointError(`id: must be between ${MIN_ENDPOINT_ID} and ${MAX_ENDPOINT_ID}, got ${wanted}`, 'invalid');
      }
      if (this.get(wanted)) throw new EndpointError(`endpoint ${wanted} already exists`, 'exists');
      return wanted;
    }
    for (let id = MIN_ENDPOINT_ID; id <= MAX_ENDPOINT_ID; id++) if (!this.get(id)) return id;
    throw new EndpointError(`no free endpoint id: all ${MAX_ENDPOINT_ID} are in use`, 'exhausted');
  }

  private save(rec: EndpointRecord): EndpointRecord | undefined {
    const current = this.get(rec.id);
    if (!current || current.state === 'disconnecting') return undefined;
    this.deps.tables.endpoints.upsert(rec);
    return rec;
  }

  private async persist(rec: EndpointRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir, `${rec.id}.json`), rec);
  }

  private async pipeline(id: number, reason: string): Promise<void> {
    let rec = this.get(id);
    if (!rec || rec.state === 'disconnecting' || this.stopped) return;
    const started = performance.now();
    try {
      if (!this.held.has(id) || !sameLabels(rec.identityLabels, rec.labels)) {
        rec = this.save(withLog(rec, 'ok', `allocating identity (${reason})`, 'waiting-for-identity'));
        if (!rec) return;
        const identity = await this.deps.identity.allocate(rec.labels);
        await this.releaseIdentity(id);
        this.held.set(id, identity.id);
        this.refIdentity(identity.id, identity.labels, +1);
        const current = this.get(id);
        if (!current || current.state === 'disconnecting') {
          await this.releaseIdentity(id);
          return;
        }
        // Keep the labels the identity was allocated for: a label change meanwhile triggers another run.
        rec = { ...current, identity: identity.id, identityLabels: rec.labels };
      }
      rec = this.save(withLog(rec, 'ok', `regenerating (${reason})`, 'regenerating'));
      if (!rec) return;
      const result = await this.deps.policy.computeFor(view(rec), { enforcement: this.deps.policyEnforcement?.() ?? 'default' });
      if (!rec.attached) {
        await this.deps.datapath.attach(view(rec));
        rec = { ...rec, attached: true };
      }
      await this.deps.datapath.writePolicy(view(rec), result.entries);
      this.syncPolicyTable(id, result);
      this.syncIpcache(rec);
      const current = this.get(id);
      const labelsMoved = current && !sameLabels(current.labels, rec.labels);
      const done = withLog(
        { ...rec, ...(current ? { labels: current.labels } : {}), policyRevision: result.revision, policyEnabled: enabledOf(result) },
        'ok',
        `regenerated (${reason}), policy revision ${result.revision}`,
        'ready' satisfies EndpointState,
      );
      const saved = this.save(done);
      if (!saved) return;
      await this.persist(saved);
      this.cancelRetry(id);
      this.deps.onRegeneration?.('success', (performance.now() - started) / 1000);
      if (labelsMoved) void this.regenerate(id, 'labels changed');
    } catch (err) {
      this.deps.onRegeneration?.('failure', (performance.now() - started) / 1000);
      const current = this.get(id);
      if (!current || current.state === 'disconnecting') return;
      const failed = this.save(withLog({ ...current, ...(rec ? { attached: rec.attached } : {}) }, 'failed', `regeneration failed (${reason}): ${(err as Error).message}`, 'not-ready'));
      if (failed) await this.persist(failed).catch(() => {});
      this.scheduleRetry(id);
    }
  }

  private syncPolicyTable(id: number, result: EndpointPolicyResult): void {
    const t = this.deps.tables.policy;
    const wanted = new Map(result.entries.map((e) => [policyEntryKey(id, e), e]));
    for (const row of t.getBy('endpoint', String(id))) {
      if (!wanted.has(policyEntryKey(id, row.entry))) t.delete(policyEntryKey(id, row.entry));
    }
    for (const entry of wanted.values()) t.upsert({ endpointId: id, entry });
  }

  private syncIpcache(rec: EndpointRecord): void {
    if (rec.identity === undefined) return;
    for (const ip of [rec.ipv4, rec.ipv6]) {
      if (!ip) continue;
      const entry = {
        prefix: ip.includes(':') ? `${ip}/128` : `${ip}/32`,
        identity: rec.identity,
        source: 'endpoint',
        ...(this.deps.nodeIP ? { hostIP: this.deps.nodeIP } : {}),
        ...(rec.namespace ? { namespace: rec.namespace } : {}),
        ...(rec.podName ? { podName: rec.podName } : {}),
      };
      const old = this.deps.tables.ipcache.get(entry.prefix);
      if (!old || JSON.stringify(old) !== JSON.stringify(entry)) this.deps.tables.ipcache.upsert(entry);
    }
  }

  private withdrawIpcache(ip: string): void {
    const prefix = ip.includes(':') ? `${ip}/128` : `${ip}/32`;
    if (this.deps.tables.ipcache.get(prefix)?.source === 'endpoint') this.deps.tables.ipcache.delete(prefix);
  }

  private refIdentity(id: number, labels: readonly string[], delta: number): void {
    const t = this.deps.tables.identities;
    const key = String(id).padStart(10, '0');
    const row = t.get(key);
    const refCount = (row?.refCount ?? 0) + delta;
    if (refCount <= 0) t.delete(key);
    else t.upsert({ id, labels: row?.labels ?? labels, refCount });
  }

  private async releaseIdentity(endpointId: number): Promise<void> {
    const identity = this.held.get(endpointId);
    if (identity === undefined) return;
    this.held.delete(endpointId);
    this.refIdentity(identity, [], -1);
    await this.deps.identity.release(identity);
  }

  private scheduleRetry(id: number): void {
    if (this.stopped) return;
    const attempts = (this.retries.get(id)?.attempts ?? 0) + 1;
    this.cancelRetry(id);
    const delay = Math.min(60_000, (this.deps.retryBaseMs ?? 1000) * 2 ** (attempts - 1));
    const timer = setTimeout(() => void this.regenerate(id, `retry ${attempts}`), delay);
    timer.unref();
    this.retries.set(id, { timer, attempts });
  }

  private cancelRetry(id: number): void {
    const r = this.retries.get(id);
    if (r) clearTimeout(r.timer);
    this.retries.delete(id);
  }
}

