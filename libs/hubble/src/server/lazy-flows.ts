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
 * observer.GetFlowsResponse with the flow, node status or lost event kept as encoded bytes: the
 * same wire format (a length-delimited message and a bytes field are one and the same on the wire).
 * The server encodes each flow of its ring once, however many clients read it; the relay only
 * needs time and node_name to merge and forwards the flow bytes untouched. Encoding and decoding
 * flows is most of the cost of both otherwise.
 */
export type LazyFlowsResponse = Message<'cilium_ts.lazy.GetFlowsResponse'> & {
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
  name: 'cilium-ts/lazy_flows.proto',
  package: 'cilium_ts.lazy',
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
const found = registry.getMessage('cilium_ts.lazy.GetFlowsResponse');
if (!found) throw new Error('hubble: lazy GetFlowsResponse descriptor missing');
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
