// The agent's configuration: one typed object built from a YAML/JSON file and/or command-line flags.
// Keys use upstream's kebab-case option names (as in the cilium-config ConfigMap) so a file reads familiar.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import { parseCidr, type Cidr } from './cidr.js';

export type RoutingMode = 'vxlan' | 'native';
export type PolicyEnforcementMode = 'default' | 'always' | 'never';

export interface AgentConfig {
  nodeName: string;
  /** The node's underlay address; other nodes reach its pods through it. */
  nodeIP?: string;
  podCIDR: Cidr;
  podCIDRv6?: Cidr;
  routingMode: RoutingMode;
  socketPath: string;
  stateDir: string;
  bpfRoot: string;
  kvstoreEndpoints: string[];
  hubbleSocketPath: string;
  /** TCP port of the Hubble server; 0 disables the TCP listener. */
  hubblePort: number;
  /** How the relay reaches this node's Hubble server, announced to the cluster (default node-ip:port, or the socket). */
  hubblePeerAddress: string;
  /** host:port of Hubble's metrics ('' disables them); upstream's --hubble-metrics-server. */
  hubbleMetricsServer: string;
  /** The Hubble metrics handlers with their options, upstream's --hubble-metrics. */
  hubbleMetrics: string;
  /** host:port for /metrics; '' disables it; port 0 picks a free port (tests). */
  metricsAddress: string;
  policyEnforcement: PolicyEnforcementMode;
  clusterName: string;
  /** Where pod and namespace labels come from when not on Kubernetes: the lab's directory (see pod-source.ts). */
  podSourceDir?: string;
  /** Set up the datapath even in the machine's initial network namespace (a real node). */
  allowHostNetns: boolean;
  debug: boolean;
}

/** Raw option values keyed by their kebab-case names, as they come from a file or from flags. */
export type RawConfig = Record<string, unknown>;

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly source = 'configuration',
  ) {
    super(`${source}: ${field}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_SOCKET_PATH = '/var/run/cilium/cilium.sock';
export const DEFAULT_STATE_DIR = '/var/run/cilium/state';
export const DEFAULT_HUBBLE_SOCKET_PATH = '/var/run/cilium/hubble.sock';
export const DEFAULT_METRICS_ADDRESS = ':9962';
export const DEFAULT_HUBBLE_METRICS_SERVER = ':9965';
/** The handlers the Helm chart's examples enable; upstream's own flag default is none. */
export const DEFAULT_HUBBLE_METRICS = 'dns drop tcp flow port-distribution icmp policy httpV2';
export const BPF_ROOT_BASE = '/sys/fs/bpf/cilium-ts';

/** Every option the agent knows; anything else in a file is rejected so that typos do not pass silently. */
export const CONFIG_KEYS = [
  'node-name',
  'node-ip',
  'pod-cidr',
  'pod-cidr-v6',
  'routing-mode',
  'socket-path',
  'state-dir',
  'bpf-root',
  'kvstore-endpoints',
  'hubble-socket-path',
  'hubble-port',
  'hubble-peer-address',
  'hubble-metrics-server',
  'hubble-metrics',
  'metrics-address',
  'policy-enforcement',
  'cluster-name',
  'pod-source-dir',
  'allow-host-netns',
  'debug',
] as const;

function str(raw: RawConfig, key: string, source: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new ConfigError(key, `must be a string, got ${typeof v}`, source);
  return v;
}

function oneOf<T extends string>(raw: RawConfig, key: string, allowed: readonly T[], dflt: T, source: string): T {
  const v = str(raw, key, source);
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(key, `must be one of ${allowed.join('|')}, got "${v}"`, source);
  }
  return v as T;
}

function port(raw: RawConfig, key: string, dflt: number, source: string): number {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(key, `must be a port number 0-65535, got ${JSON.stringify(v)}`, source);
  }
  return n;
}

function endpoints(raw: RawConfig, key: string, source: string): string[] {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return [];
  const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
  if (!Array.isArray(list)) throw new ConfigError(key, 'must be a list of URLs or a comma-separated string', source);
  return list.map((e, i) => {
    if (typeof e !== 'string' || !URL.canParse(e)) {
      throw new ConfigError(`${key}[${i}]`, `must be a URL such as http://127.0.0.1:2379, got ${JSON.stringify(e)}`, source);
    }
    return e;
  });
}

/** Checks a metrics address of the form [host]:port (port 0 allowed) or '' (disabled). */
function metricsAddress(raw: RawConfig, source: string): string {
  const v = str(raw, 'metrics-address', source);
  if (v === undefined) return DEFAULT_METRICS_ADDRESS;
  if (v === '') return '';
  const m = /^(.*):(\d+)$/.exec(v);
  const p = m ? Number(m[2]) : NaN;
  if (!m || p > 65535) throw new ConfigError('metrics-address', `must be [host]:port or "" to disable, got "${v}"`, source);
  return v;
}

/** Builds and validates the configuration; fields missing from `raw` get upstream's defaults. */
export function buildConfig(raw: RawConfig, source = 'configuration'): AgentConfig {
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(key, `unknown option (known: ${CONFIG_KEYS.join(', ')})`, source);
    }
  }
  const nodeName = str(raw, 'node-name', source) ?? hostname();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) {
    throw new ConfigError('node-name', `must be a DNS-1123 name (lower-case letters, digits, '-', '.'), got "${nodeName}"`, source);
  }
  const nodeIP = str(raw, 'node-ip', source);
  if (nodeIP !== undefined && !isIPv4(nodeIP) && !isIPv6(nodeIP)) {
    throw new ConfigError('node-ip', `must be an IP address, got "${nodeIP}"`, source);
  }
  const podCIDRText = str(raw, 'pod-cidr', source);
  if (podCIDRText === undefined) {
    throw new ConfigError('pod-cidr', "is required: the node's IPv4 pod CIDR, e.g. 10.0.1.0/24", source);
  }
  const podCIDR = parseCidrField('pod-cidr', podCIDRText, 4, source);
  const v6Text = str(raw, 'pod-cidr-v6', source);
  const podCIDRv6 = v6Text === undefined || v6Text === '' ? undefined : parseCidrField('pod-cidr-v6', v6Text, 6, source);
  const debug = raw['debug'];
  if (debug !== undefined && typeof debug !== 'boolean') throw new ConfigError('debug', 'must be true or false', source);
  const allowHostNetns = raw['allow-host-netns'];
  if (allowHostNetns !== undefined && typeof allowHostNetns !== 'boolean') throw new ConfigError('allow-host-netns', 'must be true or false', source);
  const config: AgentConfig = {
    nodeName,
    podCIDR,
    routingMode: oneOf(raw, 'routing-mode', ['vxlan', 'native'] as const, 'vxlan', source),
    socketPath: str(raw, 'socket-path', source) ?? DEFAULT_SOCKET_PATH,
    stateDir: str(raw, 'state-dir', source) ?? DEFAULT_STATE_DIR,
    bpfRoot: str(raw, 'bpf-root', source) ?? `${BPF_ROOT_BASE}/${nodeName}`,
    kvstoreEndpoints: endpoints(raw, 'kvstore-endpoints', source),
    hubbleSocketPath: str(raw, 'hubble-socket-path', source) ?? DEFAULT_HUBBLE_SOCKET_PATH,
    hubblePort: port(raw, 'hubble-port', 4244, source),
    hubblePeerAddress: '',
    hubbleMetricsServer: str(raw, 'hubble-metrics-server', source) ?? DEFAULT_HUBBLE_METRICS_SERVER,
    hubbleMetrics: str(raw, 'hubble-metrics', source) ?? DEFAULT_HUBBLE_METRICS,
    metricsAddress: metricsAddress(raw, source),
    policyEnforcement: oneOf(raw, 'policy-enforcement', ['default', 'always', 'never'] as const, 'default', source),
    clusterName: str(raw, 'cluster-name', source) ?? 'default',
    allowHostNetns: allowHostNetns ?? false,
    debug: debug ?? false,
  };
  if (nodeIP !== undefined) config.nodeIP = nodeIP;
  config.hubblePeerAddress =
    str(raw, 'hubble-peer-address', source) ??
    (config.hubblePort > 0 && nodeIP ? `${nodeIP}:${config.hubblePort}` : `unix://${config.hubbleSocketPath}`);
  if (podCIDRv6 !== undefined) config.podCIDRv6 = podCIDRv6;
  const podSourceDir = str(raw, 'pod-source-dir', source);
  if (podSourceDir) config.podSourceDir = podSourceDir;
  for (const key of ['socket-path', 'state-dir', 'bpf-root', 'hubble-socket-path', 'pod-source-dir'] as const) {
    const v = str(raw, key, source);
    if (v !== undefined && !v.startsWith('/')) throw new ConfigError(key, `must be an absolute path, got "${v}"`, source);
  }
  return config;
}

function parseCidrField(field: string, text: string, family: 4 | 6, source: string): Cidr {
  try {
    const cidr = parseCidr(text);
    if (cidr.family !== family) throw new Error(`must be an IPv${family} CIDR`);
    return cidr;
  } catch (err) {
    throw new ConfigError(field, `${(err as Error).message} (got "${text}")`, source);
  }
}

/** Reads a YAML or JSON file (JSON is YAML) into raw options. */
export async function readConfigFile(path: string): Promise<RawConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    // Loaded only when there is a file: it costs memory the agent otherwise does not need.
    const { parse: parseYaml } = await import('yaml');
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError('--config', `${path} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError('--config', `${path} must hold a mapping of option names to values`);
  }
  return doc as RawConfig;
}

/** File options first, flags override them; the result is validated as a whole. */
export async function loadConfig(opts: { file?: string; flags?: RawConfig }): Promise<AgentConfig> {
  const fromFile = opts.file ? await readConfigFile(opts.file) : {};
  const merged: RawConfig = { ...fromFile };
  for (const [k, v] of Object.entries(opts.flags ?? {})) if (v !== undefined) merged[k] = v;
  return buildConfig(merged, opts.file ?? 'configuration');
}

/** The configuration in upstream's ConfigurationMap form (string values), for GET /v1/config. */
export function configToMap(config: AgentConfig): Record<string, string> {
  return {
    'node-name': config.nodeName,
    'node-ip': config.nodeIP ?? '',
    'pod-cidr': config.podCIDR.text,
    'pod-cidr-v6': config.podCIDRv6?.text ?? '',
    'routing-mode': config.routingMode,
    'socket-path': config.socketPath,
    'state-dir': config.stateDir,
    'bpf-root': config.bpfRoot,
    'kvstore-endpoints': config.kvstoreEndpoints.join(','),
    'hubble-socket-path': config.hubbleSocketPath,
    'hubble-port': String(config.hubblePort),
    'hubble-peer-address': config.hubblePeerAddress,
    'hubble-metrics-server': config.hubbleMetricsServer,
    'hubble-metrics': config.hubbleMetrics,
    'metrics-address': config.metricsAddress,
    'policy-enforcement': config.policyEnforcement,
    'cluster-name': config.clusterName,
    'pod-source-dir': config.podSourceDir ?? '',
    'allow-host-netns': String(config.allowHostNetns),
    debug: String(config.debug),
  };
}
