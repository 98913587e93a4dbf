// Entry point run inside a pod's namespace: `node pod-agent-main.js <control-socket> [port/proto ...]`.
import { runPodAgent } from './pod-agent.js';
import type { PortProtocol } from './topology.js';

const [controlSocket, ...portArgs] = process.argv.slice(2);
if (!controlSocket) {
  console.error('usage: pod-agent-main <control-socket> [port/TCP|UDP|SCTP ...]');
  process.exit(2);
}
const ports = portArgs.map((a) => {
  const [port, protocol] = a.split('/');
  return { port: Number(port), protocol: (protocol ?? 'TCP').toUpperCase() as PortProtocol };
});
const stop = await runPodAgent({ controlSocket, ports });
const quit = () => void stop().then(() => process.exit(0));
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
console.log('ready');
