import { probeFromPod } from './probe-client.js';
import type { LabPodState, LabState } from './lab-state.js';
import type { PortProtocol } from './topology.js';

export interface PortSpec {
  port: number;
  protocol: PortProtocol;
}

export function parsePortSpec(text: string): PortSpec {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(text);
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`"${text}" is not PORT/PROTOCOL, e.g. 80/TCP`);
  return { port, protocol: (m[2] ?? 'TCP').toUpperCase() as PortProtocol };
}

/** The reachability matrix of the Kubernetes network policy tests: rows are sources, columns destinations. */
export interface ReachabilityMatrix {
  port: number;
  protocol: PortProtocol;
  pods: string[];
  reachable: boolean[][];
}

export async function probeAll(state: LabState, spec: PortSpec, timeoutMs = 1000): Promise<ReachabilityMatrix> {
  const pods = state.pods;
  const reachable = await Promise.all(
    pods.map((from) =>
      Promise.all(pods.map(async (to) => (await probeFromPod(from.control, { host: to.ip, ...spec, timeoutMs })).connected)),
    ),
  );
  return { ...spec, pods: pods.map(podName), reachable };
}

export function podName(p: LabPodState): string {
  return `${p.namespace}/${p.name}`;
}

/** As the Kubernetes e2e tests print it: `.` reachable, `X` not. */
export function formatMatrix(m: ReachabilityMatrix): string {
  const width = Math.max(...m.pods.map((p) => p.length), 4);
  const lines = [`${m.port}/${m.protocol}`.padEnd(width) + ' ' + m.pods.map((_, i) => String(i).padStart(2)).join(' ')];
  m.pods.forEach((p, i) => {
    lines.push(p.padEnd(width) + ' ' + m.reachable[i]!.map((r) => (r ? ' .' : ' X')).join(' ') + `   ${i}`);
  });
  return lines.join('\n');
}
