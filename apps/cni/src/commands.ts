import { AgentApiError, AgentClient, AgentUnreachableError, type Endpoint, type EndpointChangeRequest, type IPAMResponse, type StatusResponse } from '@cilium-ts/agent-api';
import { CniError, CniErrorCode } from './cni-error.js';
import type { Invocation } from './invocation.js';
import type { NetConf } from './net-conf.js';
import { createPodInterface, deletePodInterface, hostIfNameFor } from './pod-interface.js';
import { encodeResult } from './result.js';
import type { CniHandlers } from './skel.js';
import { ip, ipJson } from '@cilium-ts/iproute';

/** The node's own namespace: the runtime runs the plugin in it, so host-side interfaces are made here. */
const NODE = {};

/** How long ADD waits for the agent, including the endpoint's first regeneration. */
const AGENT_TIMEOUT_MS = 30_000;

/** Agent failures as CNI errors: an absent agent is "try again later", anything else names the call. */
async function agent<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AgentUnreachableError) {
      throw new CniError(CniErrorCode.TryAgainLater, 'cilium agent is not reachable', `nothing answers on ${err.socketPath} (${err.errno}); is cilium-agent running?`);
    }
    if (err instanceof AgentApiError) throw new CniError(CniErrorCode.SetupFailed, `agent refused to ${what}`, err.message);
    throw err;
  }
}

function podOwner(inv: Invocation): string {
  const ns = inv.args.K8S_POD_NAMESPACE;
  const name = inv.args.K8S_POD_NAME;
  return ns && name ? `${ns}/${name}` : inv.containerId!;
}

async function add(inv: Invocation, conf: NetConf): Promise<object> {
  const client = new AgentClient(conf.agentSocket, AGENT_TIMEOUT_MS);
  const containerId = inv.containerId!;
  const ipam = await agent('allocate an IP', () =>
    client.request<IPAMResponse>('POST', `/v1/ipam?family=ipv4&owner=${encodeURIComponent(podOwner(inv))}`),
  );
  const v4 = ipam.ipv4;
  if (!v4) throw new CniError(CniErrorCode.SetupFailed, 'agent returned no IPv4 address', JSON.stringify(ipam));
  const releaseIp = () => client.request('DELETE', `/v1/ipam/${v4.ip}`).catch(() => undefined);

  let made;
  try {
    made = await createPodInterface({
      host: NODE,
      podNetns: inv.netns!,
      ifName: inv.ifName!,
      containerId,
      addresses: [`${v4.ip}/32`],
      gateway: v4.gateway,
      mtu: conf.mtu,
    });
  } catch (err) {
    await releaseIp();
    throw err;
  }

  const change: EndpointChangeRequest = {
    'container-id': containerId,
    'container-name': inv.ifName,
    'interface-name': made.hostIfName,
    'interface-index': made.hostIfindex,
    mac: made.podMac,
    'host-mac': made.hostMac,
    addressing: { ipv4: v4.ip },
    'netns-path': inv.netns,
    'sync-build-endpoint': true,
    ...(inv.args.K8S_POD_NAME ? { 'k8s-pod-name': inv.args.K8S_POD_NAME } : {}),
    ...(inv.args.K8S_POD_NAMESPACE ? { 'k8s-namespace': inv.args.K8S_POD_NAMESPACE } : {}),
  };
  try {
    await agent('create the endpoint', () => client.request<Endpoint>('PUT', `/v1/endpoint/container-id:${containerId}`, change));
  } catch (err) {
    await deletePodInterface(NODE, containerId, inv.ifName!).catch(() => undefined);
    await releaseIp();
    throw err;
  }

  return encodeResult(
    {
      interfaces: [
        { name: made.hostIfName, mac: made.hostMac },
        { name: inv.ifName!, mac: made.podMac, mtu: conf.mtu, sandbox: inv.netns! },
      ],
      ips: [{ address: `${v4.ip}/32`, gateway: v4.gateway, interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: v4.gateway }],
    },
    conf.cniVersion,
  );
}

/** Best effort and idempotent: the endpoint (which releases its IPs) and the interface both go. */
async function del(inv: Invocation, conf: NetConf): Promise<void> {
  const client = new AgentClient(conf.agentSocket, AGENT_TIMEOUT_MS);
  let agentError: unknown;
  try {
    await client.request('DELETE', '/v1/endpoint', { 'container-id': inv.containerId });
  } catch (err) {
    if (!(err instanceof AgentApiError && err.status === 404)) agentError = err;
  }
  await deletePodInterface(NODE, inv.containerId!, inv.ifName!);
  // The interface is gone either way; an agent that was down must still forget the endpoint, so the
  // runtime is asked to retry.
  if (agentError) await agent('delete the endpoint', () => Promise.reject(agentError));
}

async function check(inv: Invocation, conf: NetConf): Promise<void> {
  const client = new AgentClient(conf.agentSocket, AGENT_TIMEOUT_MS);
  const health = await agent('report endpoint health', () => client.get<{ overallHealth: string }>(`/v1/endpoint/container-id:${inv.containerId}/healthz`));
  if (health.overallHealth !== 'OK') throw new CniError(CniErrorCode.SetupFailed, 'endpoint is not healthy', `overall health ${health.overallHealth}`);
  const want = (conf.prevResult?.ips ?? []).map((i) => i.address);
  const addrs = await ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>({ path: inv.netns! }, ['addr', 'show', 'dev', inv.ifName!]).catch(() => {
    throw new CniError(CniErrorCode.SetupFailed, 'pod interface is missing', `${inv.ifName} in ${inv.netns}`);
  });
  const have = (addrs[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
  const missing = want.filter((a) => !have.includes(a));
  if (missing.length > 0) throw new CniError(CniErrorCode.SetupFailed, 'pod interface lacks its addresses', `${missing.join(', ')} not on ${inv.ifName}`);
  await ip(NODE, ['link', 'show', 'dev', hostIfNameFor(inv.containerId!, inv.ifName!)]).catch(() => {
    throw new CniError(CniErrorCode.SetupFailed, 'host-side interface is missing', hostIfNameFor(inv.containerId!, inv.ifName!));
  });
}

/** Removes endpoints (and their interfaces) of attachments the runtime no longer knows, past errors. */
async function gc(_inv: Invocation, conf: NetConf): Promise<void> {
  const client = new AgentClient(conf.agentSocket, AGENT_TIMEOUT_MS);
  const endpoints = await agent('list endpoints', () => client.get<Endpoint[]>('/v1/endpoint'));
  const valid = new Set(conf.validAttachments.map((a) => a.containerID));
  const errors: string[] = [];
  for (const ep of endpoints) {
    const ids = ep.status['external-identifiers'];
    const cid = ids['container-id'];
    if (!cid || valid.has(cid)) continue;
    try {
      await client.request('DELETE', `/v1/endpoint/${ep.id}`);
      await deletePodInterface(NODE, cid, ids['container-name'] ?? 'eth0');
    } catch (err) {
      errors.push(`endpoint ${ep.id} (${cid}): ${(err as Error).message}`);
    }
  }
  if (errors.length > 0) throw new CniError(CniErrorCode.SetupFailed, 'garbage collection left some attachments', errors.join('; '));
}

async function status(_inv: Invocation, conf: NetConf): Promise<void> {
  try {
    const s = await new AgentClient(conf.agentSocket, 5000).get<StatusResponse>('/v1/healthz');
    if (s.cilium.state !== 'Ok') throw new CniError(CniErrorCode.PluginNotAvailable, 'cilium agent is not ready', s.cilium.msg);
  } catch (err) {
    if (err instanceof CniError) throw err;
    throw new CniError(CniErrorCode.PluginNotAvailable, 'cilium agent is not reachable', `nothing answers on ${conf.agentSocket}`);
  }
}

export const ciliumCni: CniHandlers = { add, del, check, gc, status };
