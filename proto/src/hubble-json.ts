import { toJson, toJsonString, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';

/**
 * Upstream encodes with protojson `UseProtoNames: true`: keys keep the .proto spelling (`node_name`,
 * `Type`, `IP`, `Summary`), enums are names and 64-bit integers are strings.
 */
export const hubbleJsonOptions = { useProtoFieldName: true } as const;

export function toHubbleJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): JsonValue {
  return toJson(schema, message, hubbleJsonOptions);
}

export function toHubbleJsonString<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string {
  return toJsonString(schema, message, hubbleJsonOptions);
}
