import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { LazyObserver, createHubbleTransport, hubbleServerName, type ClientTlsOptions, type HubblePeer, type HubbleTransport } from '@cilium-ts/hubble';
import { Observer, peer } from '@cilium-ts/proto';

export interface PeerManagerOptions {
  /** `--peer-service`: unix:///path or host:port of any agent's Hubble server. */
  readonly peerService: string;
  /** TLS towards the agents (peer service and peers); plaintext when undefined. */
  readonly clientTls?: ClientTlsOptions;
  /** The name the peer service's certificate must carry, when it is not the dialled host (e.g. `k8s1.default.hubble-grpc.cilium.io`). */
  readonly peerServiceServerName?: string;
  /** `--retry-timeout`: wait before watching the peer service again after it failed (upstream 30 s). */
  readonly retryTimeoutMs?: number;
  /** `--dial-timeout` for one peer connection attempt (upstream 5 s). */
  readonly dialTimeoutMs?: number;
  /** Back-off between connection attempts to one peer: 1 s doubling up to 1 min, like upstream. */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** How often connected peers are checked (upstream 2 min). */
  readonly checkIntervalMs?: number;
  readonly log?: (message: string) => void;
}

/** One agent as the relay sees it. */
export interface PeerHandle {
  readonly name: string;
  readonly address: string;
  readonly tls?: { readonly serverName: string };
  readonly available: boolean;
  readonly client: Client<typeof Observer>;
  /** The same connection for GetFlows with the flows left encoded (the relay forwards them as they are). */
  readonly flows: Client<typeof LazyObserver>;
  /** Tell the manager that a call found the peer unreachable. */
  reportUnavailable(reason: string): void;
  /** Checks the connection now (after a failed call); resolves to whether the peer is reachable. */
  probe(): Promise<boolean>;
}

class PeerConnection implements PeerHandle {
  available = false;
  client: Client<typeof Observer>;
  flows: Client<typeof LazyObserver>;
  private transport: HubbleTransport;
  private backoff: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    public peer: HubblePeer,
    private readonly options: PeerManagerOptions,
  ) {
    this.backoff = options.backoffMinMs ?? 1000;
    this.transport = this.dial();
    this.client = createClient(Observer, this.transport.transport);
    this.flows = createClient(LazyObserver, this.transport.transport);
    void this.check();
  }

  get name(): string {
    return this.peer.name;
  }
  get address(): string {
    return this.peer.address;
  }
  get tls(): { readonly serverName: string } | undefined {
    return this.options.clientTls ? { serverName: this.peer.tls?.serverName ?? hubbleServerName(this.peer.name) } : undefined;
  }

  private dial(): HubbleTransport {
    const tls = this.options.clientTls ? { ...this.options.clientTls, serverName: this.tls?.serverName } : undefined;
    return createHubbleTransport(this.peer.address, { defaultPort: 4244, tls });
  }

  /** Redials after an address change. */
  update(peer: HubblePeer): void {
    this.peer = peer;
    this.transport.close();
    this.transport = this.dial();
    this.client = createClient(Observer, this.transport.transport);
    this.flows = createClient(LazyObserver, this.transport.transport);
    this.available = false;
    this.backoff = this.options.backoffMinMs ?? 1000;
    void this.check();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), ms);
    this.timer.unref();
  }

  async probe(): Promise<boolean> {
    clearTimeout(this.timer);
    await this.check();
    return this.available;
  }

  private async check(): Promise<void> {
    if (this.closed) return;
    const state = this.transport.session.state();
    if (state === 'open' || state === 'idle') {
      this.available = true;
      this.schedule(this.options.checkIntervalMs ?? 120_000);
      return;
    }
    const dial = this.transport.session.connect();
    const timeout = new Promise<'error'>((r) => setTimeout(() => r('error'), this.options.dialTimeoutMs ?? 5000).unref());
    const result = await Promise.race([dial, timeout]);
    if (this.closed) return;
    if (result === 'error') {
      if (this.available) this.options.log?.(`peer ${this.name} (${this.address}) is unavailable`);
      this.available = false;
      this.schedule(this.backoff);
      this.backoff = Math.min(this.backoff * 2, this.options.backoffMaxMs ?? 60_000);
    } else {
      if (!this.available) this.options.log?.(`peer ${this.name} (${this.address}) connected`);
      this.available = true;
      this.backoff = this.options.backoffMinMs ?? 1000;
      this.schedule(this.options.checkIntervalMs ?? 120_000);
    }
  }

  reportUnavailable(reason: string): void {
    if (this.closed || !this.available) return;
    this.options.log?.(`peer ${this.name} (${this.address}) is unavailable: ${reason}`);
    this.available = false;
    this.transport.close();
    this.transport = this.dial();
    this.client = createClient(Observer, this.transport.transport);
    this.flows = createClient(LazyObserver, this.transport.transport);
    this.schedule(this.backoff);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.transport.close();
  }
}

/**
 * Learns the cluster's agents from Peer/Notify on the peer service and keeps one client
 * connection per agent, redialling with back-off while it is unreachable.
 */
export class PeerManager {
  private readonly connections = new Map<string, PeerConnection>();
  private readonly abort = new AbortController();
  private watching = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private transport: HubbleTransport | undefined;

  constructor(private readonly options: PeerManagerOptions) {}

  /** True while the Notify stream of the peer service is open. */
  get peerServiceConnected(): boolean {
    return this.watching;
  }

  start(): void {
    void this.watch();
  }

  peers(): PeerHandle[] {
    return [...this.connections.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private async watch(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const tls = this.options.clientTls && { ...this.options.clientTls, serverName: this.options.peerServiceServerName ?? this.options.clientTls.serverName };
      this.transport = createHubbleTransport(this.options.peerService, { defaultPort: 4244, tls });
      try {
        const client = createClient(peer.Peer, this.transport.transport);
        for await (const change of client.notify({}, { signal })) {
          this.watching = true;
          this.apply(change);
        }
        this.options.log?.(`peer service ${this.options.peerService}: stream ended`);
      } catch (err) {
        if (signal.aborted) break;
        this.options.log?.(`peer service ${this.options.peerService}: ${err instanceof ConnectError && err.code === Code.Unavailable ? 'unavailable' : String(err)}`);
      } finally {
        this.watching = false;
        this.transport.close();
      }
      await new Promise<void>((resolve) => {
        this.retryTimer = setTimeout(resolve, this.options.retryTimeoutMs ?? 30_000);
        signal.addEventListener('abort', () => (clearTimeout(this.retryTimer), resolve()), { once: true });
      });
    }
  }

  private apply(change: peer.ChangeNotification): void {
    const p: HubblePeer = { name: change.name, address: change.address, tls: change.tls ? { serverName: change.tls.serverName } : undefined };
    const existing = this.connections.get(p.name);
    switch (change.type) {
      case peer.ChangeNotificationType.PEER_ADDED:
      case peer.ChangeNotificationType.PEER_UPDATED:
        if (!existing) this.connections.set(p.name, new PeerConnection(p, this.options));
        else if (existing.address !== p.address || existing.peer.tls?.serverName !== p.tls?.serverName) existing.update(p);
        break;
      case peer.ChangeNotificationType.PEER_DELETED:
        existing?.close();
        this.connections.delete(p.name);
        break;
      default:
        break;
    }
  }

  close(): void {
    this.abort.abort();
    clearTimeout(this.retryTimer);
    this.transport?.close();
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}
