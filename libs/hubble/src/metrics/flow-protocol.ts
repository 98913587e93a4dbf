import type { Flow } from '@cilium-ts/proto';

/** The protocol label of Hubble metrics: the L7 protocol if any, else the L4 one. */
export function flowProtocol(flow: Flow): string {
  const l7 = flow.l7;
  if (l7) {
    switch (l7.record.case) {
      case 'dns':
        return 'DNS';
      case 'http':
        return 'HTTP';
      case 'kafka':
        return 'Kafka';
      default:
        return 'Unknown L7';
    }
  }
  const l4 = flow.l4;
  if (!l4) return 'Unknown L3';
  switch (l4.protocol.case) {
    case 'TCP':
      return 'TCP';
    case 'UDP':
      return 'UDP';
    case 'ICMPv4':
      return 'ICMPv4';
    case 'ICMPv6':
      return 'ICMPv6';
    case 'SCTP':
      return 'SCTP';
    default:
      return 'Unknown L4';
  }
}
