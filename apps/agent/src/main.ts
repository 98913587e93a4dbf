// cilium-agent: parses flags and/or a config file, starts the agent, and stops it cleanly on SIGTERM/SIGINT
// (closing the API socket; the state dir and pinned maps stay for the next start).
import { Command, Option } from 'commander';
import { ConfigError, DEFAULT_METRICS_ADDRESS, DEFAULT_SOCKET_PATH, DEFAULT_STATE_DIR, loadConfig, type RawConfig } from './config.js';

const program = new Command('cilium-agent')
  .description('cilium-ts agent: endpoints, identities, policy and IPAM for one node, served on a unix socket')
  .option('--config <file>', 'YAML or JSON file of options (keys as the flags, without --); flags override it')
  .option('--node-name <name>', 'name of this node (default: the hostname)')
  .option('--node-ip <ip>', "this node's underlay address")
  .option('--pod-cidr <cidr>', "this node's IPv4 pod CIDR, e.g. 10.0.1.0/24 (required)")
  .option('--pod-cidr-v6 <cidr>', "this node's IPv6 pod CIDR (optional)")
  .addOption(new Option('--routing-mode <mode>', 'how pods on different nodes reach each other (default: vxlan)').choices(['vxlan', 'native']))
  .option('--socket-path <path>', `API socket (default: ${DEFAULT_SOCKET_PATH})`)
  .option('--state-dir <dir>', `state kept across restarts (default: ${DEFAULT_STATE_DIR})`)
  .option('--bpf-root <dir>', 'pin root of this agent in bpffs (default: /sys/fs/bpf/cilium-ts/<node-name>)')
  .option('--kvstore-endpoints <urls>', 'etcd endpoints, comma-separated')
  .option('--hubble-socket-path <path>', 'Hubble server socket (default: /var/run/cilium/hubble.sock)')
  .option('--hubble-peer-address <address>', "how hubble-relay reaches this node's Hubble server (default: <node-ip>:<hubble-port>)")
  .option('--hubble-metrics-server <host:port>', 'Hubble metrics address, "" to disable (default: :9965)')
  .option('--hubble-metrics <handlers>', 'Hubble metrics handlers and their options, space separated (default: dns drop tcp flow port-distribution icmp policy httpV2)')
  .option('--hubble-port <port>', 'Hubble server TCP port, 0 to disable (default: 4244)')
  .option('--metrics-address <host:port>', `Prometheus metrics address, "" to disable (default: ${DEFAULT_METRICS_ADDRESS})`)
  .addOption(new Option('--policy-enforcement <mode>', 'policy enforcement mode (default: default)').choices(['default', 'always', 'never']))
  .option('--cluster-name <name>', 'name of the cluster (default: default)')
  .option('--allow-host-netns', "set up the datapath in the machine's own network namespace (a real node)")
  .option('--pod-source-dir <dir>', 'pod and namespace labels from this directory (the lab), instead of Kubernetes')
  .option('--debug', 'verbose logging');

program.parse();
const opts = program.opts<Record<string, string | boolean | undefined>>();

const flags: RawConfig = {};
for (const [camel, value] of Object.entries(opts)) {
  if (camel === 'config' || value === undefined) continue;
  flags[camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = value;
}

try {
  const config = await loadConfig({ ...(typeof opts['config'] === 'string' ? { file: opts['config'] } : {}), flags });
  const { startAgent } = await import('./daemon.js');
  const { wireSeams } = await import('./wiring.js');
  const wired = await wireSeams(config);
  const agent = await startAgent(config, wired.seams);
  console.log(
    `cilium-agent: node ${config.nodeName}, pod CIDR ${config.podCIDR.text}, routing ${config.routingMode}; API on ${config.socketPath}` +
      (agent.metricsUrl ? `, metrics on ${agent.metricsUrl}` : ''),
  );
  for (const m of agent.health.all()) if (m.message.startsWith('placeholder')) console.log(`  ${m.module}: ${m.message}`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`cilium-agent: ${signal} received, stopping`);
    agent.stop().then(wired.close).then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`cilium-agent: stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : (err as Error).message;
  console.error(`cilium-agent: ${message}`);
  process.exit(1);
}
