import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { AgentEventType, type AgentEvent, type Endpoint } from '@cilium-ts/proto';

/** Texts of agent and debug events as `hubble observe agent-events|debug-events` prints them. */

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

export function agentEventDetails(e: AgentEvent, time: (ts: Timestamp | undefined) => string): string {
  const n = e.notification;
  switch (e.type) {
    case AgentEventType.AGENT_EVENT_UNKNOWN:
      if (n.case === 'unknown') return `type: ${n.value.type}, notification: ${n.value.notification}`;
      break;
    case AgentEventType.AGENT_STARTED:
      if (n.case === 'agentStart') return `start time: ${time(n.value.time)}`;
      break;
    case AgentEventType.POLICY_UPDATED:
    case AgentEventType.POLICY_DELETED:
      if (n.case === 'policyUpdate') return `labels: [${n.value.labels.join(',')}], revision: ${n.value.revision}, count: ${n.value.ruleCount}`;
      break;
    case AgentEventType.ENDPOINT_REGENERATE_SUCCESS:
    case AgentEventType.ENDPOINT_REGENERATE_FAILURE:
      if (n.case === 'endpointRegenerate') {
        const r = n.value;
        return `id: ${r.id}, labels: [${r.labels.join(',')}]${r.error !== '' ? `, error: ${r.error}` : ''}`;
      }
      break;
    case AgentEventType.ENDPOINT_CREATED:
    case AgentEventType.ENDPOINT_DELETED:
      if (n.case === 'endpointUpdate') {
        const u = n.value;
        return `id: ${u.id}${u.namespace !== '' ? `, namespace: ${u.namespace}` : ''}${u.podName !== '' ? `, pod name: ${u.podName}` : ''}`;
      }
      break;
    case AgentEventType.IPCACHE_UPSERTED:
    case AgentEventType.IPCACHE_DELETED:
      if (n.case === 'ipcacheUpdate') {
        const i = n.value;
        let s = `cidr: ${i.cidr}, identity: ${i.identity}`;
        if (i.oldIdentity !== undefined) s += `, old identity: ${i.oldIdentity}`;
        if (i.hostIp !== '') s += `, host ip: ${i.hostIp}`;
        if (i.oldHostIp !== '') s += `, old host ip: ${i.oldHostIp}`;
        return `${s}, encrypt key: ${i.encryptKey}`;
      }
      break;
    case AgentEventType.SERVICE_UPSERTED:
      if (n.case === 'serviceUpsert') {
        const v = n.value;
        let s = `id: ${v.id}`;
        if (v.frontendAddress) s += `, frontend: ${hostPort(v.frontendAddress.ip, v.frontendAddress.port)}`;
        if (v.backendAddresses.length > 0) s += `, backends: [${v.backendAddresses.map((a) => hostPort(a.ip, a.port)).join(',')}]`;
        if (v.type !== '') s += `, type: ${v.type}`;
        if (v.trafficPolicy !== '') s += `, traffic policy: ${v.trafficPolicy}`;
        if (v.namespace !== '') s += `, namespace: ${v.namespace}`;
        if (v.name !== '') s += `, name: ${v.name}`;
        return s;
      }
      break;
    case AgentEventType.SERVICE_DELETED:
      if (n.case === 'serviceDelete') return `id: ${n.value.id}`;
      break;
  }
  return 'UNKNOWN';
}

/** `ns/pod (ID: n)`, `reserved:host (ID: n)` or `ID: n`. */
export function endpointShort(ep: Endpoint | undefined): string {
  if (!ep) return 'N/A';
  const id = `ID: ${ep.ID}`;
  if (ep.namespace !== '' && ep.podName !== '') return `${ep.namespace}/${ep.podName} (${id})`;
  if (ep.labels.length === 1 && ep.labels[0]?.startsWith('reserved:')) return `${ep.labels[0]} (${id})`;
  return id;
}

export const hexOrNA = (v: number | undefined) => (v === undefined ? 'N/A' : '0x' + v.toString(16));
export const cpuOrNA = (v: number | undefined) => (v === undefined ? 'N/A' : String(v).padStart(2, '0'));
