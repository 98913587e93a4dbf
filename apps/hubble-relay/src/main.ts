import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ClientTlsOptions, ServerTlsOptions } from '@cilium-ts/hubble';
import { parseDuration, parseListenAddress } from './flags.js';
import { serveRelayMetrics } from './relay-metrics.js';
import { startHubbleRelay } from './relay-server.js';
import { RELAY_VERSION } from './version.js';

const read = (file: string) => readFileSync(file, 'utf8');
const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').filter(Boolean)];

const program = new Command('hubble-relay')
  .description('hubble-relay: the cluster-wide Hubble Observer, fed by every agent found through the Peer service')
  .version(RELAY_VERSION)
  .option('--listen-address <addr>', 'address on which to listen', ':4245')
  .option('--peer-service <addr>', 'address of the Hubble peer service (unix:///path or host:port)', 'unix:///var/run/cilium/hubble.sock')
  .option('--health-listen-address <addr>', 'address of a health-only gRPC listener (upstream :4222; disabled when empty)', '')
  .option('--metrics-listen-address <addr>', 'address on which to serve Prometheus metrics (disabled when empty)', '')
  .option('--cluster-name <name>', 'name of the cluster', 'default')
  .option('--dial-timeout <duration>', 'timeout of a connection attempt to a peer', '5s')
  .option('--retry-timeout <duration>', 'time to wait before watching the peer service again after a failure', '30s')
  .option('--sort-buffer-len-max <n>', 'maximum number of flows held for sorting', '100')
  .option('--sort-buffer-drain-timeout <duration>', 'time after which buffered flows are sent when no new ones arrive', '1s')
  .option('--tls-hubble-client-cert-file <file>', 'client certificate for mutual TLS with the agents')
  .option('--tls-hubble-client-key-file <file>', 'private key of that certificate')
  .option('--tls-hubble-server-ca-files <files>', 'CA certificates the agents\u2019 certificates must chain to (comma separated)', list)
  .option('--peer-service-server-name <name>', 'name the peer service\u2019s certificate carries when it is not the dialled host')
  .option('--disable-client-tls', 'talk to the agents in plaintext')
  .option('--tls-relay-server-cert-file <file>', 'certificate of the relay\u2019s own server')
  .option('--tls-relay-server-key-file <file>', 'private key of that certificate')
  .option('--tls-relay-client-ca-files <files>', 'CA certificates clients must present a certificate from (mutual TLS; comma separated)', list)
  .option('--disable-server-tls', 'serve clients in plaintext (h2c)')
  .addOption(new Option('--tls-client-cert-file <file>').hideHelp())
  .addOption(new Option('--tls-client-key-file <file>').hideHelp())
  .addHelpText('after', '\nWithout certificate files a side is plaintext, as if --disable-client-tls / --disable-server-tls were given.');

program.parse();
const o = program.opts<Record<string, string | string[] | boolean | undefined>>();
const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
const files = (k: string) => (Array.isArray(o[k]) ? (o[k] as string[]) : undefined);

function clientTls(): ClientTlsOptions | undefined {
  if (o['disableClientTls']) return undefined;
  const cert = str('tlsHubbleClientCertFile') ?? str('tlsClientCertFile');
  const key = str('tlsHubbleClientKeyFile') ?? str('tlsClientKeyFile');
  const ca = files('tlsHubbleServerCaFiles');
  if (!cert && !key && !ca) return undefined;
  if ((cert && !key) || (key && !cert)) throw new Error('--tls-hubble-client-cert-file and --tls-hubble-client-key-file go together');
  return { cert: cert && read(cert), key: key && read(key), ca: ca?.map(read) };
}

function serverTls(): ServerTlsOptions | undefined {
  if (o['disableServerTls']) return undefined;
  const cert = str('tlsRelayServerCertFile');
  const key = str('tlsRelayServerKeyFile');
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error('--tls-relay-server-cert-file and --tls-relay-server-key-file go together');
  const ca = files('tlsRelayClientCaFiles');
  return { cert: read(cert), key: read(key), clientCa: ca?.map(read) };
}

async function main(): Promise<void> {
  const lenMax = Number(str('sortBufferLenMax'));
  if (!Number.isInteger(lenMax) || lenMax < 1) throw new Error(`--sort-buffer-len-max: "${str('sortBufferLenMax')}" is not a positive integer`);
  const log = (m: string) => console.error(`${new Date().toISOString()} level=info subsys=hubble-relay msg="${m}"`);
  const relay = await startHubbleRelay({
    listen: parseListenAddress(str('listenAddress') ?? ':4245', '--listen-address'),
    peerService: str('peerService') ?? '',
    version: RELAY_VERSION,
    serverTls: serverTls(),
    clientTls: clientTls(),
    peerServiceServerName: str('peerServiceServerName'),
    sortBufferLenMax: lenMax,
    sortBufferDrainTimeoutMs: parseDuration(str('sortBufferDrainTimeout') ?? '1s', '--sort-buffer-drain-timeout'),
    dialTimeoutMs: parseDuration(str('dialTimeout') ?? '5s', '--dial-timeout'),
    retryTimeoutMs: parseDuration(str('retryTimeout') ?? '30s', '--retry-timeout'),
    healthListen: str('healthListenAddress') ? parseListenAddress(str('healthListenAddress') ?? '', '--health-listen-address') : undefined,
    log,
  });
  log(`listening on ${relay.address.host}:${relay.address.port}, peer service ${str('peerService')}`);
  const metricsAddress = str('metricsListenAddress');
  const metrics = metricsAddress ? await serveRelayMetrics(parseListenAddress(metricsAddress, '--metrics-listen-address'), () => relay.peers()) : undefined;
  const stop = () => {
    void Promise.all([relay.close(), metrics?.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`hubble-relay: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
