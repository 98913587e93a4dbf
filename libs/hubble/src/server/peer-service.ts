import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { peer } from '@cilium-ts/proto';
import { AsyncChannel } from './async-channel.js';
import type { HubblePeer, PeerChange, PeerSource } from './peer-source.js';

const changeTypes = {
  added: peer.ChangeNotificationType.PEER_ADDED,
  updated: peer.ChangeNotificationType.PEER_UPDATED,
  deleted: peer.ChangeNotificationType.PEER_DELETED,
} as const;

function notification(type: PeerChange['type'], p: HubblePeer): peer.ChangeNotification {
  return create(peer.ChangeNotificationSchema, {
    name: p.name,
    address: p.address,
    type: changeTypes[type],
    tls: p.tls ? { serverName: p.tls.serverName } : undefined,
  });
}

/** peer.Peer/Notify: every known peer as PEER_ADDED first, then the changes as they happen. */
export function peerService(source: PeerSource): ServiceImpl<typeof peer.Peer> {
  return {
    async *notify(_request, context) {
      const changes = new AsyncChannel<peer.ChangeNotification>();
      // Subscribe before listing so that no change falls between the two.
      const unsubscribe = source.onChange((c) => changes.push(notification(c.type, c.peer)));
      const onAbort = () => changes.close();
      context.signal.addEventListener('abort', onAbort);
      try {
        for (const p of source.list()) yield notification('added', p);
        yield* changes;
      } finally {
        unsubscribe();
        context.signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
