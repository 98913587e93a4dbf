import { LocalObserver } from '../observer/local-observer.js';
import { FlowBuilder, type DatapathEvent } from '../parser/flow-builder.js';
import { craftPacket } from '../parser/test-packets.js';

const pods = new Map([
  ['10.0.1.7', { id: 7, identity: 30007, namespace: 'x', podName: 'a', labels: ['k8s:app=a'] }],
  ['10.0.2.8', { id: 8, identity: 30008, namespace: 'y', podName: 'b', labels: ['k8s:app=b'] }],
]);

/** A LocalObserver of node `nodeName` fed with crafted datapath events, for server and relay tests. */
export function testObserver(nodeName: string, capacity = 4095): { observer: LocalObserver; udp(time: number, sport: number, verdict?: 'forwarded' | 'dropped'): void } {
  const builder = new FlowBuilder({ lookupEndpointByIp: (ip) => pods.get(ip), lookupIdentity: () => ({ labels: ['reserved:world'] }) }, { nodeName });
  const observer = new LocalObserver({ nodeName, version: '1.19.4-ts', builder, capacity });
  return {
    observer,
    udp(time, sport, verdict = 'forwarded') {
      const event: DatapathEvent = {
        type: verdict === 'dropped' ? 'drop' : 'trace',
        timestamp: time,
        subType: verdict === 'dropped' ? 133 : 0,
        sourceEndpointId: 7,
        sourceIdentity: 30007,
        destinationIdentity: 30008,
        ifindex: 0,
        packet: craftPacket({ src: '10.0.1.7', dst: '10.0.2.8', l4: { udp: { sport, dport: 53 } } }),
      };
      observer.observe(event);
    },
  };
}
