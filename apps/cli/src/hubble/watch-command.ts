import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { peer } from '@cilium-ts/proto';
import { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { addServerFlags, connect, type ServerOptions } from './connection.js';
import type { HubbleIO } from './hubble-io.js';

const typeNames: Readonly<Record<number, string>> = { 1: 'PEER_ADDED', 2: 'PEER_DELETED', 3: 'PEER_UPDATED' };

/** Hidden `hubble watch peers`: the Peer/Notify stream of a node's Hubble server, one change per line. */
export function watchCommand(io: HubbleIO): Command {
  const peers = new Command('peers').description('Watch the peers a Hubble server announces');
  addServerFlags(peers, io.env).action(async (o: ServerOptions) => {
    const { hubble } = connect(o);
    try {
      for await (const c of createClient(peer.Peer, hubble.transport).notify({}, { signal: io.signal })) {
        io.stdout.write(`${typeNames[c.type] ?? 'UNKNOWN'}  ${c.address}  ${c.name}${c.tls ? `  (TLS.ServerName: ${c.tls.serverName})` : ''}\n`);
      }
    } catch (err) {
      if (io.signal?.aborted && err instanceof ConnectError && err.code === Code.Canceled) return;
      throw new CliError(`watch peers: ${o.server}: ${err instanceof ConnectError ? err.rawMessage : String(err)}`);
    } finally {
      hubble.close();
    }
  });
  return new Command('watch').description('Watch Hubble objects').addCommand(peers);
}
