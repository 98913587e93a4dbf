// The generated schemas are the contract; this file only gives them stable import names.
import { fileURLToPath } from 'node:url';

export * from '../gen/flow/flow_pb.js';
export * from '../gen/observer/observer_pb.js';
export * from '../gen/relay/relay_pb.js';
export * as flow from '../gen/flow/flow_pb.js';
export * as observer from '../gen/observer/observer_pb.js';
export * as relay from '../gen/relay/relay_pb.js';
export * as peer from '../gen/peer/peer_pb.js';
export * as health from '../gen/grpc/health/v1/health_pb.js';
export * as reflection from '../gen/grpc/reflection/v1/reflection_pb.js';
export * as reflectionV1alpha from '../gen/grpc/reflection/v1alpha/reflection_pb.js';
export { hubbleJsonOptions, toHubbleJson, toHubbleJsonString } from './hubble-json.js';

/** Directory holding the .proto files (for run-time loaders such as @grpc/proto-loader). */
export const protoRoot: string = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));

/** The .proto files of the Hubble API, relative to {@link protoRoot}. */
export const hubbleProtoFiles: readonly string[] = [
  'flow/flow.proto',
  'observer/observer.proto',
  'peer/peer.proto',
  'relay/relay.proto',
  'grpc/health/v1/health.proto',
  'grpc/reflection/v1/reflection.proto',
  'grpc/reflection/v1alpha/reflection.proto',
];
