import { toJson } from '@bufbuild/protobuf';
import { FlowFilterSchema } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { ObserveFilters } from './observe-filters.js';

// Flags in command-line order -> { whitelist, blacklist } in upstream's JSON.
function build(flags: [string, string?][]): { allow: unknown[]; deny: unknown[] } {
  const f = new ObserveFilters();
  for (const [flag, value] of flags) {
    if (flag === 'not') f.not();
    else f.add(flag, value ?? '');
  }
  const { whitelist, blacklist } = f.build();
  const json = (list: typeof whitelist) => list.map((x) => toJson(FlowFilterSchema, x));
  return { allow: json(whitelist), deny: json(blacklist) };
}

describe('ObserveFilters', () => {
  it('turns a two-sided flag into two ORed filters: either direction', () => {
    expect(build([['ip', '10.0.0.1']]).allow).toEqual([{ sourceIp: ['10.0.0.1'] }, { destinationIp: ['10.0.0.1'] }]);
    expect(build([['namespace', 'x']]).allow).toEqual([{ sourcePod: ['x/'] }, { destinationPod: ['x/'] }]);
  });

  it('ANDs flags across kinds and ORs repeated values', () => {
    expect(build([['from-pod', 'x/a'], ['to-port', '80'], ['to-port', '443'], ['verdict', 'DROPPED']]).allow).toEqual([
      { sourcePod: ['x/a'], destinationPort: ['80', '443'], verdict: ['DROPPED'] },
    ]);
  });

  it('gives bare pod names the namespace of -n', () => {
    expect(build([['namespace', 'y'], ['to-pod', 'b']]).allow).toEqual([{ destinationPod: ['y/b'] }]);
    expect(build([['pod', 'z/c'], ['namespace', 'y']]).allow).toEqual([{ sourcePod: ['z/c'] }, { destinationPod: ['z/c'] }]);
  });

  it('sends the flag after --not to the deny list', () => {
    expect(build([['not'], ['verdict', 'FORWARDED'], ['protocol', 'UDP']])).toEqual({ allow: [{ protocol: ['udp'] }], deny: [{ verdict: ['FORWARDED'] }] });
  });

  it('parses types with sub-types, TCP flags and identities', () => {
    expect(build([['type', 'trace:to-endpoint']]).allow).toEqual([{ eventType: [{ type: 4, matchSubType: true }] }]);
    expect(build([['tcp-flags', 'syn,ack']]).allow).toEqual([{ tcpFlags: [{ SYN: true, ACK: true }] }]);
    expect(build([['from-identity', '30007']]).allow).toEqual([{ sourceIdentity: [30007] }]);
    expect(() => build([['identity', 'world?']])).toThrow('--identity: "world?" is not a numeric security identity');
    expect(() => build([['type', 'trace:sideways']])).toThrow(/--type: unknown sub-type "sideways" of trace/);
  });
});
