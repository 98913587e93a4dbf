import { create, createFileRegistry, type DescMethod, type Message } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_timestamp,
  type Timestamp,
} from '@bufbuild/protobuf/wkt';
import { Observer, type GetFlowsRequestSchema } from '@cilium-ts/proto';

/**
 * observer.GetFlowsResponse as the relay handles it: the same wire format, but the flow, node
 * status and lost event stay encoded bytes (a length-delimited message and a bytes field are one
 * and the same on the wire). The relay only needs time and node_name to merge; decoding and
 * re-encoding every flow would cost it most of its throughput.
 */
export type LazyFlowsResponse = Message<'hubblerelay.lazy.GetFlowsResponse'> & {
  responseTypes:
    | { case: 'flow'; value: Uint8Array }
    | { case: 'nodeStatus'; value: Uint8Array }
    | { case: 'lostEvents'; value: Uint8Array }
    | { case: undefined; value?: undefined };
  nodeName: string;
  time?: Timestamp;
};

const { BYTES, STRING, MESSAGE } = FieldDescriptorProto_Type;
const OPTIONAL = FieldDescriptorProto_Label.OPTIONAL;

const lazyFile = create(FileDescriptorProtoSchema, {
  name: 'hubble-relay/lazy_flows.proto',
  package: 'hubblerelay.lazy',
  syntax: 'proto3',
  dependency: ['google/protobuf/timestamp.proto'],
  messageType: [
    {
      name: 'GetFlowsResponse',
      oneofDecl: [{ name: 'response_types' }],
      field: [
        { name: 'flow', jsonName: 'flow', number: 1, type: BYTES, label: OPTIONAL, oneofIndex: 0 },
        { name: 'node_status', jsonName: 'nodeStatus', number: 2, type: BYTES, label: OPTIONAL, oneofIndex: 0 },
        { name: 'lost_events', jsonName: 'lostEvents', number: 3, type: BYTES, label: OPTIONAL, oneofIndex: 0 },
        { name: 'node_name', jsonName: 'nodeName', number: 1000, type: STRING, label: OPTIONAL },
        { name: 'time', jsonName: 'time', number: 1001, type: MESSAGE, label: OPTIONAL, typeName: '.google.protobuf.Timestamp' },
      ],
    },
  ],
});

const registry = createFileRegistry(lazyFile, (name) => (name === 'google/protobuf/timestamp.proto' ? file_google_protobuf_timestamp : undefined));
const found = registry.getMessage('hubblerelay.lazy.GetFlowsResponse');
if (!found) throw new Error('hubble-relay: lazy GetFlowsResponse descriptor missing');
export const LazyFlowsResponseSchema = found as GenMessage<LazyFlowsResponse>;

type ObserverMethods = typeof Observer extends GenService<infer M> ? M : never;
type LazyObserverMethods = Omit<ObserverMethods, 'getFlows'> & {
  getFlows: { methodKind: 'server_streaming'; input: typeof GetFlowsRequestSchema; output: typeof LazyFlowsResponseSchema };
};

const getFlows: DescMethod = { ...Observer.method.getFlows, output: LazyFlowsResponseSchema };

/** observer.Observer (same paths, same wire format) with GetFlows answering LazyFlowsResponse. */
export const LazyObserver = {
  ...Observer,
  methods: Observer.methods.map((m) => (m.localName === 'getFlows' ? getFlows : m)),
  method: { ...Observer.method, getFlows },
} as unknown as GenService<LazyObserverMethods>;
