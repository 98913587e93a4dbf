import { create, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import { InvalidRequestError } from './invalid-request-error.js';

interface MaskNode {
  readonly field: DescField;
  // Absent: copy the whole field.
  children?: Map<string, MaskNode>;
}

type MaskTree = Map<string, MaskNode>;

function lookup(desc: DescMessage, name: string, path: string): DescField {
  const field = desc.fields.find((f) => f.name === name);
  if (!field) throw new InvalidRequestError(`field_mask: ${JSON.stringify(path)}: ${desc.typeName} has no field ${JSON.stringify(name)}`);
  return field;
}

function buildTree(desc: DescMessage, paths: readonly string[]): MaskTree {
  const root: MaskTree = new Map();
  for (const path of paths) {
    let tree = root;
    let current = desc;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      const field = lookup(current, part, path);
      const last = i === parts.length - 1;
      let node = tree.get(part);
      if (!node) {
        node = { field };
        if (!last) node.children = new Map();
        tree.set(part, node);
      } else if (last) {
        delete node.children;
      }
      if (!last) {
        if (field.fieldKind !== 'message') throw new InvalidRequestError(`field_mask: ${JSON.stringify(path)}: ${part} is not a message`);
        if (!node.children) return; // a shorter path already selects the whole field
        tree = node.children;
        current = field.message;
      }
    });
  }
  return root;
}

type Fields = Record<string, unknown>;

function copy(desc: DescMessage, source: Message, tree: MaskTree): Message {
  const src = source as unknown as Fields;
  const out = create(desc) as unknown as Fields;
  for (const { field, children } of tree.values()) {
    let value: unknown;
    if (field.oneof) {
      const oneof = src[field.oneof.localName] as { case: string | undefined; value?: unknown };
      if (oneof.case !== field.localName) continue;
      value = oneof.value;
    } else {
      value = src[field.localName];
    }
    if (value === undefined) continue;
    if (children && field.fieldKind === 'message' && value !== null) value = copy(field.message, value as Message, children);
    if (field.oneof) out[field.oneof.localName] = { case: field.localName, value };
    else out[field.localName] = value;
  }
  return out as unknown as Message;
}

/**
 * A compiled google.protobuf.FieldMask (paths use .proto field names, e.g. `source.identity`,
 * `l4.TCP.destination_port`): returns a copy holding only the selected fields.
 */
export function compileFieldMask<T extends Message>(desc: DescMessage, paths: readonly string[]): (message: T) => T {
  if (paths.length === 0) return (m) => m;
  const tree = buildTree(desc, paths);
  return (m) => copy(desc, m, tree) as T;
}
