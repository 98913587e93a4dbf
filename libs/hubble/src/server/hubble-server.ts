import { Observer, health, peer, reflection, reflectionV1alpha } from '@cilium-ts/proto';
import type { LocalObserver } from '../observer/local-observer.js';
import { listenGrpc, type ServerTlsOptions } from './grpc-listener.js';
import { alwaysServing, healthService } from './health-service.js';
import { LazyObserver } from './lazy-flows.js';
import { observerService } from './observer-service.js';
import { PeerRegistry, hubbleServerName, type PeerSource } from './peer-source.js';
import { peerService } from './peer-service.js';
import { reflectionServices } from './reflection-service.js';

export interface HubbleServerOptions {
  readonly observer: LocalObserver;
  readonly nodeName: string;
  /** Sent as the `hubble-server-version` response header and in GetNodes. */
  readonly version: string;
  /** The cluster's nodes for Peer/Notify; by default this node alone, at its own address. */
  readonly peers?: PeerSource;
  /** Upstream: /var/run/cilium/hubble.sock. Always plaintext. */
  readonly unixSocket?: string;
  /** Upstream: :4244. Port 0 picks a free port. */
  readonly tcp?: { readonly host?: string; readonly port: number };
  /** TLS on the TCP listener (`--hubble-tls-cert-file`, `-key-file`, `-client-ca-files` for mutual TLS). */
  readonly tls?: ServerTlsOptions;
}

export interface HubbleServer {
  /** The bound unix socket path, if any. */
  readonly unixSocket?: string;
  /** The bound TCP address, if any (the real port when 0 was asked for). */
  readonly tcp?: { readonly host: string; readonly port: number };
  /** This node's address for peers: `host:port` when listening on TCP, else `unix://path`. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * The Hubble server an agent embeds: Observer over its LocalObserver, Peer/Notify, health
 * (SERVING for `hubble.server.Observer`) and reflection, as gRPC over HTTP/2 on a unix socket
 * and/or TCP, optionally with (mutual) TLS on TCP.
 */
export async function startHubbleServer(options: HubbleServerOptions): Promise<HubbleServer> {
  let peers = options.peers;
  let self: PeerRegistry | undefined;
  if (!peers) peers = self = new PeerRegistry();
  const observerState = { address: '' };
  const services = [Observer, peer.Peer, health.Health, reflection.ServerReflection, reflectionV1alpha.ServerReflection];
  const reflect = reflectionServices(services);
  const listener = await listenGrpc({
    unixSocket: options.unixSocket,
    tcp: options.tcp,
    tls: options.tls,
    headers: { 'hubble-server-version': options.version },
    routes: (router) => {
      const tls = options.tls !== undefined;
      router.service(LazyObserver, observerService({ observer: options.observer, nodeName: options.nodeName, version: options.version, tls, address: () => observerState.address }));
      router.service(peer.Peer, peerService(peers));
      router.service(health.Health, healthService(alwaysServing));
      router.service(reflection.ServerReflection, reflect.v1);
      router.service(reflectionV1alpha.ServerReflection, reflect.v1alpha);
    },
  });
  // A wildcard listener is announced by its loopback address; the agent passes real peers for the cluster.
  const host = listener.tcp?.host ?? '';
  const tcpHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const address = listener.tcp ? `${tcpHost}:${listener.tcp.port}` : `unix://${listener.unixSocket ?? ''}`;
  observerState.address = address;
  self?.set({ name: options.nodeName, address, tls: options.tls && listener.tcp ? { serverName: hubbleServerName(options.nodeName) } : undefined });
  return { unixSocket: listener.unixSocket, tcp: listener.tcp, address, close: () => listener.close() };
}
