// The codecs' layouts must equal the C structs as compiled: offsets and sizes
// of every member and the struct size, read from the objects' BTF.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { objectPath } from '../objects.js';
import { CT4_KEY, CT6_KEY, CT_ENTRY } from './conntrack.js';
import { ENDPOINT_INFO, ENDPOINT_KEY } from './endpoint.js';
import { DROP_NOTIFY, NOTIFY_HDR, POLICY_VERDICT_NOTIFY, TRACE_NOTIFY } from './events.js';
import { IPCACHE_KEY, IPCACHE_VALUE } from './ipcache.js';
import { METRICS_KEY, METRICS_VALUE } from './metrics.js';
import { POLICY_ENTRY, POLICY_KEY, POLICY_PREFIX_SET } from './policy.js';
import type { StructLayout } from './struct-layout.js';

interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number }>;
}

function readBtf(object: string): Map<number, BtfType> {
  const out = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', object], { encoding: 'utf8' });
  const types = (JSON.parse(out) as { types: BtfType[] }).types;
  return new Map(types.map((t) => [t.id, t]));
}

function sizeOf(types: Map<number, BtfType>, id: number): number {
  const t = types.get(id);
  if (!t) throw new Error(`BTF type ${id} missing`);
  switch (t.kind) {
    case 'TYPEDEF':
    case 'CONST':
    case 'VOLATILE':
      return sizeOf(types, t.type_id ?? 0);
    case 'ARRAY':
      return (t.nr_elems ?? 0) * sizeOf(types, t.type_id ?? 0);
    default:
      return t.size ?? 0;
  }
}

/** { size, fields } of a named struct as the compiler laid it out. */
function structFromBtf(types: Map<number, BtfType>, name: string): { size: number; fields: Record<string, [number, number]> } {
  const t = [...types.values()].find((x) => x.kind === 'STRUCT' && x.name === name);
  if (!t) throw new Error(`struct ${name} is not in the BTF`);
  const fields: Record<string, [number, number]> = {};
  for (const m of t.members ?? []) fields[m.name] = [m.bits_offset / 8, sizeOf(types, m.type_id)];
  return { size: t.size ?? 0, fields };
}

function asPairs(layout: StructLayout): { size: number; fields: Record<string, [number, number]> } {
  const fields: Record<string, [number, number]> = {};
  for (const [k, v] of Object.entries(layout.fields)) fields[k] = [v.offset, v.size];
  return { size: layout.size, fields };
}

const LAYOUTS: StructLayout[] = [
  IPCACHE_KEY, IPCACHE_VALUE, ENDPOINT_KEY, ENDPOINT_INFO, POLICY_KEY, POLICY_ENTRY, CT4_KEY, CT6_KEY, CT_ENTRY,
  POLICY_PREFIX_SET, METRICS_KEY, METRICS_VALUE, NOTIFY_HDR, TRACE_NOTIFY, DROP_NOTIFY, POLICY_VERDICT_NOTIFY,
];

describe('codec layouts match the BTF of the compiled objects', () => {
  const lxc = readBtf(objectPath('bpf_lxc'));
  for (const layout of LAYOUTS) {
    it(`struct ${layout.name}`, () => {
      expect(asPairs(layout)).toEqual(structFromBtf(lxc, layout.name));
    });
  }

  it('the overlay and host objects agree with the endpoint object on shared structs', () => {
    for (const name of ['bpf_overlay', 'bpf_host'] as const) {
      const btf = readBtf(objectPath(name));
      for (const layout of [IPCACHE_KEY, IPCACHE_VALUE, ENDPOINT_INFO, METRICS_KEY, TRACE_NOTIFY, DROP_NOTIFY]) {
        expect(structFromBtf(btf, layout.name), `${name}: ${layout.name}`).toEqual(asPairs(layout));
      }
    }
  });
});
