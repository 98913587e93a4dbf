export { PeerManager, type PeerHandle, type PeerManagerOptions } from './peer-manager.js';
export { relayObserverService, type RelayObserverOptions } from './relay-observer.js';
export { startHubbleRelay, type HubbleRelay, type HubbleRelayOptions } from './relay-server.js';
export { SortBuffer, sortBufferLength } from './sort-buffer.js';
export { parseDuration, parseListenAddress } from './flags.js';
export { RELAY_VERSION } from './version.js';
export { serveRelayMetrics } from './relay-metrics.js';
