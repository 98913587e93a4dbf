/** Every name and path the lab makes starts here, so `down` can find all of it even with no state file. */
export interface LabPaths {
  /** Prefix of every network namespace of the lab. */
  netnsPrefix: string;
  runDir: string;
  bpfRoot: string;
  stateFile: string;
}

export function labPaths(name = 'lab'): LabPaths {
  const runDir = `/var/run/cilium-${name}`;
  return {
    netnsPrefix: `cts${name}-`,
    runDir,
    bpfRoot: `/sys/fs/bpf/cilium-${name}`,
    stateFile: `${runDir}/state.json`,
  };
}

/** The lab's underlay: a bridge in the switch namespace, node addresses from .11 up, etcd on the switch. */
export const UNDERLAY = {
  prefixLength: 24,
  switchAddress: '10.99.0.1',
  nodeAddress: (index: number) => `10.99.0.${11 + index}`,
  etcdClientPort: 2379,
  etcdPeerPort: 2380,
} as const;

/** Pod CIDR of the n-th node (from 0), as the operator would hand them out. */
export function podCidrOf(index: number): string {
  return `10.244.${index + 1}.0/24`;
}
