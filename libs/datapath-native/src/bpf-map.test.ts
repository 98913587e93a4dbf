import { afterEach, describe, expect, it } from 'vitest';
import { BpfMap } from './bpf-map.js';
import { numPossibleCpus } from './system.js';
import { Scratch } from '../test/support/scratch.js';
import { catchBpfError } from '../test/support/catch-bpf-error.js';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
/** lpm_trie key: prefix length, then the IPv4 address in network order. */
const prefix = (cidr: string): Buffer => {
  const [ip = '', len = '32'] = cidr.split('/');
  return Buffer.concat([u32(Number(len)), Buffer.from(ip.split('.').map(Number))]);
};

const scratch = new Scratch();
afterEach(() => scratch.cleanup());
const create = (opts: Parameters<typeof BpfMap.create>[0]): BpfMap => scratch.closeLater(BpfMap.create(opts));

describe('BpfMap element operations', () => {
  it('hash: update, lookup, delete, and info from the kernel', () => {
    const map = create({ type: 'hash', name: 'ctsdn_hash', keySize: 4, valueSize: 8, maxEntries: 16 });
    map.update(u32(1), u64(100));
    expect(map.lookup(u32(1))).toEqual(u64(100));
    expect(map.lookup(u32(2))).toBeUndefined();
    expect(map.delete(u32(1))).toBe(true);
    expect(map.delete(u32(1))).toBe(false);
    expect(map.info()).toMatchObject({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, id: map.id });
    expect(map.id).toBeGreaterThan(0);
  });

  it('update flags: noexist on an existing key fails with EEXIST, exist on a missing key with ENOENT', () => {
    const map = create({ type: 'hash', name: 'ctsdn_flags', keySize: 4, valueSize: 4, maxEntries: 4 });
    map.update(u32(1), u32(1), 'noexist');
    const err = catchBpfError(() => map.update(u32(1), u32(2), 'noexist'));
    expect(err.code).toBe('EEXIST');
    expect(err.operation).toBe('bpf_map_update_elem');
    expect(err.message).toBe('bpf_map_update_elem(ctsdn_flags): EEXIST File exists');
    expect(catchBpfError(() => map.update(u32(9), u32(2), 'exist')).code).toBe('ENOENT');
    map.update(u32(1), u32(3), 'exist');
    expect(map.lookup(u32(1))).toEqual(u32(3));
  });

  it('a full hash map refuses a new key with E2BIG', () => {
    const map = create({ type: 'hash', name: 'ctsdn_full', keySize: 4, valueSize: 4, maxEntries: 2 });
    map.update(u32(1), u32(1));
    map.update(u32(2), u32(2));
    const err = catchBpfError(() => map.update(u32(3), u32(3)));
    expect(err.errno).toBe(7);
    expect(err.message).toBe('bpf_map_update_elem(ctsdn_full): E2BIG Argument list too long');
  });

  it('a key of the wrong size is refused before it reaches the kernel', () => {
    const map = create({ type: 'hash', name: 'ctsdn_size', keySize: 4, valueSize: 4, maxEntries: 2 });
    const err = catchBpfError(() => map.lookup(Buffer.alloc(3)));
    expect(err.code).toBe('EINVAL');
    expect(err.message).toContain('key is 3 bytes, the map expects 4');
  });

  it('lru_hash evicts the least recently used entry instead of failing when full', () => {
    const map = create({ type: 'lru_hash', name: 'ctsdn_lru', keySize: 4, valueSize: 4, maxEntries: 64 });
    for (let i = 0; i < 1000; i++) map.update(u32(i), u32(i));
    const kept = [...map.keys()].length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(64 + numPossibleCpus() * 64);
    expect(map.lookup(u32(999))).toEqual(u32(999));
  });

  it('array: every index exists, out of range is E2BIG', () => {
    const map = create({ type: 'array', name: 'ctsdn_array', keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(map.lookup(u32(3))).toEqual(u32(0));
    map.update(u32(2), u32(42));
    expect(map.lookup(u32(2))).toEqual(u32(42));
    expect(catchBpfError(() => map.update(u32(4), u32(1))).code).toBe('E2BIG');
    expect([...map.keys()].map((k) => k.readUInt32LE())).toEqual([0, 1, 2, 3]);
  });

  it('percpu_hash and percpu_array hold one value per possible CPU', () => {
    const cpus = numPossibleCpus();
    for (const type of ['percpu_hash', 'percpu_array'] as const) {
      const map = create({ type, name: `ctsdn_${type}`, keySize: 4, valueSize: 4, maxEntries: 4 });
      expect(map.isPerCpu).toBe(true);
      expect(map.possibleCpus).toBe(cpus);
      const values = Array.from({ length: cpus }, (_, cpu) => u32(10 + cpu));
      map.update(u32(1), values);
      expect(map.lookupPerCpu(u32(1))).toEqual(values);
      // The raw value keeps the kernel's layout: 8-byte slots.
      expect(map.lookup(u32(1))?.length).toBe(8 * cpus);
      expect(catchBpfError(() => map.update(u32(1), [u32(1)].concat(cpus === 1 ? [u32(2)] : []))).message).toContain(`expected ${cpus} per-CPU values`);
    }
  });

  it('lpm_trie: a lookup finds the longest matching prefix', () => {
    const map = create({ type: 'lpm_trie', name: 'ctsdn_lpm', keySize: 8, valueSize: 4, maxEntries: 16 });
    map.update(prefix('10.0.0.0/8'), u32(8));
    map.update(prefix('10.1.0.0/16'), u32(16));
    map.update(prefix('10.1.2.0/24'), u32(24));
    expect(map.lookup(prefix('10.1.2.3/32'))?.readUInt32LE()).toBe(24);
    expect(map.lookup(prefix('10.1.3.3/32'))?.readUInt32LE()).toBe(16);
    expect(map.lookup(prefix('10.200.0.1/32'))?.readUInt32LE()).toBe(8);
    expect(map.lookup(prefix('11.0.0.1/32'))).toBeUndefined();
    // Batch lookup is not supported on tries: the whole map comes back by iteration.
    expect(map.lookupBatch().map(([, v]) => v.readUInt32LE()).sort((a, b) => a - b)).toEqual([8, 16, 24]);
  });

  it('hash_of_maps: an inner map goes in by fd and reads back as its id', () => {
    const template = create({ type: 'array', name: 'ctsdn_inner0', keySize: 4, valueSize: 4, maxEntries: 2 });
    const outer = create({ type: 'hash_of_maps', name: 'ctsdn_outer', keySize: 4, valueSize: 4, maxEntries: 4, innerMap: template });
    const inner = create({ type: 'array', name: 'ctsdn_inner1', keySize: 4, valueSize: 4, maxEntries: 2 });
    outer.setInnerMap(7, inner);
    expect(outer.lookup(u32(7))?.readUInt32LE()).toBe(inner.id);
    const wrongShape = create({ type: 'array', name: 'ctsdn_inner2', keySize: 4, valueSize: 8, maxEntries: 2 });
    expect(catchBpfError(() => outer.setInnerMap(8, wrongShape)).code).toBe('EINVAL');
  });

  it('ringbuf maps are created and are not key/value maps', () => {
    const map = create({ type: 'ringbuf', name: 'ctsdn_rb', keySize: 0, valueSize: 0, maxEntries: 4096 });
    expect(map.info().type).toBe('ringbuf');
    expect(catchBpfError(() => map.lookup(Buffer.alloc(0))).operation).toBe('bpf_map_lookup_elem');
  });

  it('an unknown map type names the type', () => {
    const err = catchBpfError(() => BpfMap.create({ type: 'hashh', keySize: 4, valueSize: 4, maxEntries: 1 }));
    expect(err.message).toBe('bpf_map_create(hashh): EINVAL Invalid argument (unknown map type)');
  });

  it('an unnamed map is named in errors by its type and id', () => {
    const map = create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    map.update(u32(1), u32(1));
    expect(() => map.update(u32(2), u32(2))).toThrow(`bpf_map_update_elem(hash map ${map.id}): E2BIG`);
    expect(map.info().name).toBe('');
  });

  it('close is idempotent and later use fails with EBADF', () => {
    const map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    map.close();
    map.close();
    expect(catchBpfError(() => map.lookup(u32(0))).code).toBe('EBADF');
  });
});

describe('BpfMap iteration and batches', () => {
  it('keys() and entries() visit every element once', () => {
    const map = create({ type: 'hash', name: 'ctsdn_iter', keySize: 4, valueSize: 4, maxEntries: 128 });
    for (let i = 0; i < 100; i++) map.update(u32(i), u32(i * 2));
    const entries = [...map.entries()].map(([k, v]) => [k.readUInt32LE(), v.readUInt32LE()] as const);
    expect(entries).toHaveLength(100);
    expect(new Map(entries).get(42)).toBe(84);
  });

  it('updateBatch, lookupBatch and deleteBatch over a hash map', () => {
    const map = create({ type: 'hash', name: 'ctsdn_batch', keySize: 4, valueSize: 8, maxEntries: 2048 });
    const keys = Array.from({ length: 1000 }, (_, i) => u32(i));
    map.updateBatch(keys, keys.map((_, i) => u64(i * 3)));
    const all = map.lookupBatch({ batchSize: 64 });
    expect(all).toHaveLength(1000);
    expect(new Map(all.map(([k, v]) => [k.readUInt32LE(), Number(v.readBigUInt64LE())])).get(333)).toBe(999);
    // Keys 998 and 999 exist, 5000 does not: it is skipped, the rest are deleted.
    expect(map.deleteBatch([u32(998), u32(5000), u32(999)])).toBe(2);
    expect(map.lookupBatch()).toHaveLength(998);
    expect(catchBpfError(() => map.updateBatch([u32(1)], [u64(1), u64(2)])).message).toContain('1 keys but 2 values');
  });

  it('updateBatch with noexist (which the kernel batches do not take) writes one by one and stops at an existing key', () => {
    const map = create({ type: 'hash', name: 'ctsdn_batchx', keySize: 4, valueSize: 4, maxEntries: 16 });
    map.update(u32(2), u32(0));
    const err = catchBpfError(() => map.updateBatch([u32(1), u32(2), u32(3)], [u32(1), u32(2), u32(3)], 'noexist'));
    expect(err.code).toBe('EEXIST');
    expect(err.message).toContain('element 1 of 3');
    expect(map.lookup(u32(1))).toEqual(u32(1));
    expect(map.lookup(u32(3))).toBeUndefined();
  });

  it('lookupBatch on a per-CPU array returns every CPU slot', () => {
    const map = create({ type: 'percpu_array', name: 'ctsdn_pcpub', keySize: 4, valueSize: 8, maxEntries: 3 });
    const all = map.lookupBatch();
    expect(all).toHaveLength(3);
    expect(all[0]?.[1].length).toBe(8 * numPossibleCpus());
  });
});

