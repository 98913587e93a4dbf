// One Hubble server or the relay in its own thread, as they run in their own processes in a cluster.
import { parentPort, workerData } from 'node:worker_threads';
import { PeerRegistry, startHubbleServer } from '@cilium-ts/hubble';
import { testObserver } from '@cilium-ts/hubble/testing';
import { startHubbleRelay } from '../relay-server.js';

type Data = { role: 'server'; name: string; capacity: number; fill: number } | { role: 'relay'; peers: { name: string; address: string }[] };
type Command = { produce: { total: number; perSecond: number } } | { close: true };

const data = workerData as Data;
const port = parentPort;
if (!port) throw new Error('bench-worker: not started as a worker');

if (data.role === 'server') {
  const node = testObserver(data.name, data.capacity);
  const t0 = Date.now() - 600_000;
  // Every fourth flow is a drop, so a verdict=FORWARDED filter keeps three in four.
  for (let j = 0; j < data.fill; j++) node.udp(t0 + j * 5, 1024 + (j % 50_000), j % 4 === 3 ? 'dropped' : 'forwarded');
  const server = await startHubbleServer({ observer: node.observer, nodeName: data.name, version: 'bench', peers: new PeerRegistry(), tcp: { host: '127.0.0.1', port: 0 } });
  port.on('message', (cmd: Command) => {
    if ('close' in cmd) {
      void server.close().then(() => process.exit(0));
      return;
    }
    const { total, perSecond } = cmd.produce;
    const batch = Math.max(1, Math.round(perSecond / 100));
    let i = 0;
    const timer = setInterval(() => {
      for (let k = 0; k < batch && i < total; k++, i++) node.udp(Date.now(), 1024 + (i % 1000));
      if (i >= total) clearInterval(timer);
    }, 10);
  });
  port.postMessage({ address: server.address });
} else {
  const peers = new PeerRegistry(data.peers);
  const peerService = await startHubbleServer({ observer: testObserver('peer-service').observer, nodeName: 'peer-service', version: 'bench', peers, tcp: { host: '127.0.0.1', port: 0 } });
  const relay = await startHubbleRelay({ listen: { host: '127.0.0.1', port: 0 }, peerService: peerService.address, version: 'bench', nodeName: 'relay', backoffMinMs: 100 });
  while (relay.peers().filter((p) => p.available).length < data.peers.length) await new Promise((r) => setTimeout(r, 20));
  port.on('message', () => void Promise.all([relay.close(), peerService.close()]).then(() => process.exit(0)));
  port.postMessage({ address: `127.0.0.1:${relay.address.port}` });
}
