import { describe, expect, it } from 'vitest';
import { TopologyError, parseTopology } from './topology.js';

describe('lab topology files', () => {
  it('reads nodes, namespaces and pods, and gives each namespace its metadata.name label', () => {
    const t = parseTopology({
      nodes: ['node-1', 'node-2'],
      namespaces: { x: { labels: { ns: 'x' } }, y: {} },
      pods: [
        { namespace: 'x', name: 'a', node: 'node-1', labels: { pod: 'a' }, ports: [{ port: 80, protocol: 'TCP' }, { port: 81, protocol: 'UDP' }] },
        { namespace: 'y', name: 'b', node: 'node-2', ports: [{ port: 80 }] },
      ],
    });
    expect(t.namespaces).toEqual({
      x: { labels: { ns: 'x', 'kubernetes.io/metadata.name': 'x' } },
      y: { labels: { 'kubernetes.io/metadata.name': 'y' } },
    });
    expect(t.pods[1]).toEqual({ namespace: 'y', name: 'b', node: 'node-2', labels: {}, ports: [{ port: 80, protocol: 'TCP' }] });
  });

  it('lists every problem with its path', () => {
    let err: unknown;
    try {
      parseTopology({
        nodes: ['node-1', 'Node_2'],
        namespaces: { x: { labels: { 'bad key!': 'v' } } },
        pods: [
          { namespace: 'z', name: 'a', node: 'node-9', ports: [{ port: 70000 }, { port: 80, protocol: 'ICMP' }] },
          { namespace: 'x', name: 'b', node: 'node-1', labels: { app: 'has space' } },
        ],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TopologyError);
    expect((err as TopologyError).problems).toEqual([
      'nodes[1]: "Node_2" is not a valid node name',
      'namespaces.x.labels.bad key!: "bad key!" is not a valid label key',
      'pods[0].namespace: "z" is not one of the namespaces',
      'pods[0].node: "node-9" is not one of the nodes',
      'pods[0].ports[0].port: 70000 is not a port number (1-65535)',
      'pods[0].ports[1].protocol: "ICMP" is not TCP, UDP or SCTP',
      'pods[1].labels.app: "has space" is not a valid label value',
    ]);
  });

  it('refuses a pod listed twice', () => {
    expect(() =>
      parseTopology({ nodes: ['n'], namespaces: { x: {} }, pods: [{ namespace: 'x', name: 'a', node: 'n' }, { namespace: 'x', name: 'a', node: 'n' }] }),
    ).toThrow(/pods\[1\]: pod x\/a is listed twice/);
  });
});
