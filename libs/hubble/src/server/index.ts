export { AsyncChannel } from './async-channel.js';
export { listenGrpc, type GrpcListenOptions, type GrpcListener, type ServerTlsOptions } from './grpc-listener.js';
export { OBSERVER_HEALTH_SERVICE, alwaysServing, healthService, type HealthStatusFn } from './health-service.js';
export { startHubbleServer, type HubbleServer, type HubbleServerOptions } from './hubble-server.js';
export { createHubbleTransport, parseHubbleAddress, type ClientTlsOptions, type HubbleAddress, type HubbleTransport } from './hubble-transport.js';
export { asGrpcStream, observerService, type ObserverServiceOptions } from './observer-service.js';
export { PeerRegistry, hubbleServerName, type HubblePeer, type PeerChange, type PeerSource } from './peer-source.js';
export { peerService } from './peer-service.js';
export { reflectionServices } from './reflection-service.js';
