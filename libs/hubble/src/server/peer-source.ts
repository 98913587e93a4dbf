/** A Hubble peer as the Peer service announces it. */
export interface HubblePeer {
  /** The node name, or `cluster/node` outside the default cluster. */
  readonly name: string;
  /** `ip[:port]` (4244 by default), `host:port` or `unix:///path/hubble.sock`. */
  readonly address: string;
  /** Set when the peer serves TLS; the name its certificate carries. */
  readonly tls?: { readonly serverName: string };
}

export type PeerChange = { readonly type: 'added' | 'updated' | 'deleted'; readonly peer: HubblePeer };

/** Where the Peer service learns the cluster's nodes (the agent's node table, a fixed list, ...). */
export interface PeerSource {
  list(): readonly HubblePeer[];
  /** Calls back on every change; returns the unsubscribe function. */
  onChange(callback: (change: PeerChange) => void): () => void;
}

/**
 * A peer list that is set from outside (the agent's node discovery, tests). A rename is announced
 * as deleted then added, an address or TLS change as updated, like upstream's peer handler.
 */
export class PeerRegistry implements PeerSource {
  private readonly peers = new Map<string, HubblePeer>();
  private readonly listeners = new Set<(change: PeerChange) => void>();

  constructor(initial: readonly HubblePeer[] = []) {
    for (const peer of initial) this.peers.set(peer.name, peer);
  }

  list(): readonly HubblePeer[] {
    return [...this.peers.values()];
  }

  onChange(callback: (change: PeerChange) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  set(peer: HubblePeer): void {
    const old = this.peers.get(peer.name);
    this.peers.set(peer.name, peer);
    if (!old) this.emit({ type: 'added', peer });
    else if (old.address !== peer.address || old.tls?.serverName !== peer.tls?.serverName) this.emit({ type: 'updated', peer });
  }

  delete(name: string): void {
    const old = this.peers.get(name);
    if (!old) return;
    this.peers.delete(name);
    this.emit({ type: 'deleted', peer: old });
  }

  private emit(change: PeerChange): void {
    for (const l of this.listeners) l(change);
  }
}

/** `<node>.<cluster>.hubble-grpc.cilium.io` with dots in the names turned into dashes, as upstream's peer handler names it. */
export function hubbleServerName(nodeName: string, clusterName = 'default'): string {
  const dash = (s: string) => s.replaceAll('.', '-');
  return `${dash(nodeName)}.${dash(clusterName)}.hubble-grpc.cilium.io`;
}
