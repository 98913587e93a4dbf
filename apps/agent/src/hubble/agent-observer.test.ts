import type { DatapathEvent } from '@cilium-ts/bpf-programs';
import { describe, expect, it } from 'vitest';
import { createAgentTables } from '../agent-tables.js';
import { AgentObserver, agentFlowLookups, toHubbleEvent } from './agent-observer.js';
import type { DatapathEventSource } from '../seams.js';

/** An IPv4/TCP SYN from 10.244.2.3:44228 to 10.244.2.2:8080 behind an Ethernet header. */
function synPacket(): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.from([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 244, 2, 3, 10, 244, 2, 2]);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(44228, 0);
  tcp.writeUInt16BE(8080, 2);
  tcp[12] = 0x50;
  tcp[13] = 0x02;
  return Buffer.concat([eth, ip, tcp]);
}

const drop: DatapathEvent = {
  kind: 'drop',
  type: 1,
  subtype: 133,
  source: 1,
  hash: 0,
  origLength: 54,
  data: synPacket(),
  reason: 133,
  srcIdentity: 48881,
  dstIdentity: 44291,
  dstEndpointId: 1,
  ifindex: 7,
  line: 0,
  file: 0,
  direction: 'ingress',
  ipv6: false,
};

/** Events handed over by hand, as the ring buffer reader would. */
class EventsByHand implements DatapathEventSource {
  private listener: ((events: readonly DatapathEvent[]) => void) | undefined;
  subscribe(l: (events: readonly DatapathEvent[]) => void) {
    this.listener = l;
    return () => (this.listener = undefined);
  }
  stats() {
    return { events: 0, undecodable: 0, lostInUserspace: 0 };
  }
  emit(e: DatapathEvent) {
    this.listener?.([e]);
  }
}

describe("the agent's flows from datapath events", () => {
  it('maps a datapath drop to the event Hubble parses', () => {
    expect(toHubbleEvent(drop, 1000)).toMatchObject({ type: 'drop', subType: 133, sourceEndpointId: 1, sourceIdentity: 48881, destinationIdentity: 44291, timestamp: 1000 });
    expect(toHubbleEvent({ ...drop, kind: 'unknown' } as DatapathEvent, 1)).toBeUndefined();
  });

  it('names both sides of a drop from the endpoint table and the cluster', () => {
    const tables = createAgentTables();
    tables.endpoints.upsert({ id: 1, labels: ['k8s:app=backend'], ipv4: '10.244.2.2', identity: 44291, namespace: 'demo', podName: 'backend', state: 'ready', policyRevision: 1, policyEnabled: 'ingress', attached: true, createdAt: '', log: [] });
    const cluster = { identityLabels: (id: number) => (id === 48881 ? ['k8s:app=client'] : undefined), ipcache: (ip: string) => (ip === '10.244.2.3' ? { identity: 48881, namespace: 'demo', podName: 'client' } : undefined) };
    const events = new EventsByHand();
    const observer = new AgentObserver({ nodeName: 'node-2', version: '0.1.0', lookups: agentFlowLookups(tables, cluster, 'default'), events });
    const seen: string[] = [];
    observer.onFlow((f) => seen.push(`${f.verdict} ${f.source?.podName} ${f.source?.labels.join(',')} -> ${f.destination?.podName} ${f.destination?.labels.join(',')} ${f.dropReasonDesc}`));
    events.emit(drop);
    // verdict 2 = DROPPED, drop reason 133 = POLICY_DENIED
    expect(seen).toEqual(['2 client k8s:app=client -> backend k8s:app=backend 133']);
    expect(observer.observer.serverStatus().numFlows).toBe(1n);
  });
});
