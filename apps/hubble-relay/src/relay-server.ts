import { hostname } from 'node:os';
import { LazyObserver, OBSERVER_HEALTH_SERVICE, healthService, listenGrpc, reflectionServices, type ClientTlsOptions, type ServerTlsOptions } from '@cilium-ts/hubble';
import { Observer, health, reflection, reflectionV1alpha } from '@cilium-ts/proto';
import { PeerManager, type PeerHandle } from './peer-manager.js';
import { relayObserverService } from './relay-observer.js';

export interface HubbleRelayOptions {
  /** `--listen-address`, e.g. `{ port: 4245 }` (every address) or `{ host: '127.0.0.1', port: 4245 }`. */
  readonly listen: { readonly host?: string; readonly port: number };
  /** `--peer-service`: unix:///path or host:port of any agent's Hubble server. */
  readonly peerService: string;
  readonly version: string;
  /** The relay's name on the node status events it sends (default: the host name). */
  readonly nodeName?: string;
  /** TLS of the relay's own server (`--tls-relay-server-*`); plaintext (h2c) when undefined. */
  readonly serverTls?: ServerTlsOptions;
  /** TLS towards the agents (`--tls-hubble-client-*`, `--tls-hubble-server-ca-files`); plaintext when undefined. */
  readonly clientTls?: ClientTlsOptions;
  /** The name the peer service's certificate carries, if not the dialled host (`--peer-service-server-name`). */
  readonly peerServiceServerName?: string;
  readonly sortBufferLenMax?: number;
  readonly sortBufferDrainTimeoutMs?: number;
  readonly dialTimeoutMs?: number;
  readonly retryTimeoutMs?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  readonly log?: (message: string) => void;
  /** `--health-listen-address`: a second plaintext listener with only the health service (upstream :4222). */
  readonly healthListen?: { readonly host?: string; readonly port: number };
}

export interface HubbleRelay {
  readonly address: { readonly host: string; readonly port: number };
  /** The bound health-only listener, if asked for. */
  readonly healthAddress?: { readonly host: string; readonly port: number };
  /** The agents the relay knows, and whether each is reachable. */
  peers(): readonly PeerHandle[];
  close(): Promise<void>;
}

/**
 * hubble-relay: learns the agents from Peer/Notify, serves the cluster-wide Observer, health
 * (SERVING once the peer service is watched and at least one agent is reachable) and reflection.
 */
export async function startHubbleRelay(options: HubbleRelayOptions): Promise<HubbleRelay> {
  const manager = new PeerManager({
    peerService: options.peerService,
    clientTls: options.clientTls,
    peerServiceServerName: options.peerServiceServerName,
    dialTimeoutMs: options.dialTimeoutMs,
    retryTimeoutMs: options.retryTimeoutMs,
    backoffMinMs: options.backoffMinMs,
    backoffMaxMs: options.backoffMaxMs,
    log: options.log,
  });
  manager.start();
  const ready = () => manager.peerServiceConnected && manager.peers().some((p) => p.available);
  const reflect = reflectionServices([Observer, health.Health, reflection.ServerReflection, reflectionV1alpha.ServerReflection]);
  const listener = await listenGrpc({
    tcp: options.listen,
    tls: options.serverTls,
    headers: { 'hubble-relay-version': options.version },
    routes: (router) => {
      router.service(
        LazyObserver,
        relayObserverService({
          peers: () => manager.peers(),
          nodeName: options.nodeName ?? hostname(),
          version: options.version,
          sortBufferLenMax: options.sortBufferLenMax,
          sortBufferDrainTimeoutMs: options.sortBufferDrainTimeoutMs,
          callTimeoutMs: options.dialTimeoutMs,
        }),
      );
      router.service(health.Health, healthService((s) => (s === '' || s === OBSERVER_HEALTH_SERVICE ? (ready() ? 'serving' : 'not-serving') : undefined)));
      router.service(reflection.ServerReflection, reflect.v1);
      router.service(reflectionV1alpha.ServerReflection, reflect.v1alpha);
    },
  }).catch((err: unknown) => {
    manager.close();
    throw err;
  });
  const healthStatus = healthService((s) => (s === '' || s === OBSERVER_HEALTH_SERVICE ? (ready() ? 'serving' : 'not-serving') : undefined));
  const healthListener = options.healthListen
    ? await listenGrpc({ tcp: options.healthListen, routes: (router) => router.service(health.Health, healthStatus) }).catch(async (err: unknown) => {
        manager.close();
        await listener.close();
        throw err;
      })
    : undefined;
  return {
    address: listener.tcp ?? { host: '', port: 0 },
    healthAddress: healthListener?.tcp,
    peers: () => manager.peers(),
    async close() {
      manager.close();
      await Promise.all([listener.close(), healthListener?.close()]);
    },
  };
}
