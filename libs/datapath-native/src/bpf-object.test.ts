import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BpfMap } from './bpf-map.js';
import { BpfObject } from './bpf-object.js';
import { Scratch, testObject } from '../test/support/scratch.js';
import { catchBpfError } from '../test/support/catch-bpf-error.js';

const scratch = new Scratch();
afterEach(() => scratch.cleanup());

const packet = (): Buffer => Buffer.alloc(64, 0x11);
const zero = Buffer.alloc(4);
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;

describe('BpfObject.load', () => {
  it('lists programs and maps by name, without libbpf internal maps', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('verdict')));
    expect([...obj.programs.keys()]).toEqual(['tc_verdict']);
    expect([...obj.maps.keys()]).toEqual(['ctsdn_runs']);
    expect(obj.program('tc_verdict').type).toBe('sched_cls');
    expect(obj.map('ctsdn_runs').info()).toMatchObject({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
  });

  it('constants: the same object loaded with different const volatile values behaves differently', () => {
    const pass = scratch.closeLater(BpfObject.load(testObject('verdict'), { constants: { verdict: TC_ACT_OK, dst_mac_first_byte: 0x02 } }));
    const drop = scratch.closeLater(BpfObject.load(testObject('verdict'), { constants: { verdict: TC_ACT_SHOT, dst_mac_first_byte: 0xfe } }));
    const a = pass.program('tc_verdict').testRun({ data: packet() });
    const b = drop.program('tc_verdict').testRun({ data: packet() });
    expect([a.retval, a.data[0]]).toEqual([TC_ACT_OK, 0x02]);
    expect([b.retval, b.data[0]]).toEqual([TC_ACT_SHOT, 0xfe]);
  });

  it('constants are checked against the variable: unknown names and values that do not fit are refused', () => {
    const path = testObject('verdict');
    const unknown = catchBpfError(() => BpfObject.load(path, { constants: { verdikt: 1 } }));
    expect(unknown.message).toBe(`set_constant(${path}:verdikt): ENOENT No such file or directory (no const volatile variable of that name in .rodata)`);
    expect(catchBpfError(() => BpfObject.load(path, { constants: { dst_mac_first_byte: 256 } })).code).toBe('ERANGE');
    expect(catchBpfError(() => BpfObject.load(path, { constants: { verdict: Buffer.alloc(2) } })).message).toContain('Buffer is 2 bytes, the variable is 4');
    expect(catchBpfError(() => BpfObject.load(path, { constants: { verdict: 1.5 } })).message).toContain('number must be an integer');
    // Negative numbers are written as two's complement of the variable's size.
    const minusOne = scratch.closeLater(BpfObject.load(path, { constants: { verdict: -1 } }));
    expect(minusOne.program('tc_verdict').testRun({ data: packet() }).retval).toBe(0xffffffff);
  });

  it('maxEntries resizes a map before load', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('tail-call'), { maxEntries: { jump_table: 32 } }));
    expect(obj.map('jump_table').maxEntries).toBe(32);
  });

  it('pinRoot: a LIBBPF_PIN_BY_NAME map is pinned there and reused by the next load', () => {
    const pinRoot = scratch.pinDir();
    const first = BpfObject.load(testObject('pinned'), { pinRoot });
    try {
      expect(existsSync(join(pinRoot, 'ctsdn_pinned_runs'))).toBe(true);
      first.program('tc_count').testRun({ data: packet(), repeat: 5 });
    } finally {
      first.close();
    }
    const second = scratch.closeLater(BpfObject.load(testObject('pinned'), { pinRoot }));
    expect(second.map('ctsdn_pinned_runs').lookup(zero)?.readBigUInt64LE()).toBe(5n);
    second.program('tc_count').testRun({ data: packet() });
    expect(scratch.closeLater(BpfMap.openPinned(join(pinRoot, 'ctsdn_pinned_runs'))).lookup(zero)?.readBigUInt64LE()).toBe(6n);
  });

  it('reuseMaps: objects share a map passed as an open map or as a pin path', () => {
    const shared = scratch.closeLater(BpfMap.create({ type: 'array', name: 'ctsdn_shared', keySize: 4, valueSize: 8, maxEntries: 1 }));
    const byMap = scratch.closeLater(BpfObject.load(testObject('verdict'), { reuseMaps: { ctsdn_runs: shared } }));
    byMap.program('tc_verdict').testRun({ data: packet(), repeat: 3 });
    expect(shared.lookup(zero)?.readBigUInt64LE()).toBe(3n);

    const pinDir = scratch.pinDir();
    mkdirSync(pinDir);
    shared.pin(join(pinDir, 'runs'));
    const byPath = scratch.closeLater(BpfObject.load(testObject('verdict'), { reuseMaps: { ctsdn_runs: join(pinDir, 'runs') } }));
    byPath.program('tc_verdict').testRun({ data: packet() });
    expect(shared.lookup(zero)?.readBigUInt64LE()).toBe(4n);
    expect(byPath.map('ctsdn_runs').id).toBe(shared.id);
  });

  it('programs and maps pin to bpffs and unpin again', () => {
    const dir = scratch.pinDir();
    mkdirSync(dir);
    const obj = scratch.closeLater(BpfObject.load(testObject('verdict')));
    obj.program('tc_verdict').pin(join(dir, 'prog'));
    const map = obj.map('ctsdn_runs');
    map.pin(join(dir, 'map'));
    expect(scratch.closeLater(BpfMap.openPinned(join(dir, 'map'))).id).toBe(map.id);
    expect(existsSync(join(dir, 'prog'))).toBe(true);
    map.unpin(join(dir, 'map'));
    expect(existsSync(join(dir, 'map'))).toBe(false);
    expect(() => map.pin(join(dir, 'prog'))).toThrow(`bpf_obj_pin(ctsdn_runs -> ${join(dir, 'prog')}): EEXIST File exists`);
  });

  it('prog_array: setProgram makes the tail call land', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('tail-call')));
    const entry = obj.program('tail_entry');
    expect(entry.testRun({ data: packet() }).retval).toBe(1);
    obj.map('jump_table').setProgram(0, obj.program('tail_target'));
    expect(entry.testRun({ data: packet() }).retval).toBe(7);
  });

  it('hash_of_maps: a program reads through the inner map put in from TypeScript', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('map-in-map')));
    const program = obj.program('tc_inner_value');
    expect(program.testRun({ data: packet() }).retval).toBe(100); // no inner map at key 1 yet
    const inner = scratch.closeLater(BpfMap.create({ type: 'array', name: 'ctsdn_inner', keySize: 4, valueSize: 4, maxEntries: 1 }));
    inner.update(zero, Buffer.from([42, 0, 0, 0]));
    obj.map('outer').setInnerMap(1, inner);
    expect(program.testRun({ data: packet() }).retval).toBe(42);
    // The inner maps must match the template declared in C (here: 1 entry).
    const bigger = scratch.closeLater(BpfMap.create({ type: 'array', name: 'ctsdn_inner8', keySize: 4, valueSize: 4, maxEntries: 8 }));
    expect(() => obj.map('outer').setInnerMap(2, bigger)).toThrow('bpf_map_update_elem(outer): EINVAL');
  });

  it('innerMaps replaces the inner map template of a map-in-map', () => {
    const template = scratch.closeLater(BpfMap.create({ type: 'array', name: 'ctsdn_tmpl8', keySize: 4, valueSize: 4, maxEntries: 8 }));
    const obj = scratch.closeLater(BpfObject.load(testObject('map-in-map'), { innerMaps: { outer: template } }));
    const inner = scratch.closeLater(BpfMap.create({ type: 'array', name: 'ctsdn_inner8', keySize: 4, valueSize: 4, maxEntries: 8 }));
    inner.update(zero, Buffer.from([8, 0, 0, 0]));
    obj.map('outer').setInnerMap(1, inner);
    expect(obj.program('tc_inner_value').testRun({ data: packet() }).retval).toBe(8);
  });

  it('close is idempotent and closes every program and map', () => {
    const obj = BpfObject.load(testObject('verdict'));
    obj.close();
    obj.close();
    expect(catchBpfError(() => obj.map('ctsdn_runs').lookup(zero)).code).toBe('EBADF');
    expect(catchBpfError(() => obj.program('tc_verdict').testRun({ data: packet() })).code).toBe('EBADF');
  });
});

describe('BpfObject errors', () => {
  it('a missing file names the path', () => {
    const err = catchBpfError(() => BpfObject.load('/nonexistent/ctsdn.o'));
    expect(err.operation).toBe('bpf_object__open_file');
    expect(err.code).toBe('ENOENT');
    expect(err.message).toMatch(/^bpf_object__open_file\(\/nonexistent\/ctsdn\.o\): ENOENT No such file or directory/);
  });

  it('a file that is not an ELF object names the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctsdn-'));
    scratch.defer(() => rmSync(dir, { recursive: true }));
    const garbage = join(dir, 'garbage.o');
    writeFileSync(garbage, Buffer.from('this is not an ELF file, just some bytes'.repeat(10)));
    const err = catchBpfError(() => BpfObject.load(garbage));
    expect(err.message).toBe(
      `bpf_object__open_file(${garbage}): LIBBPF_ERRNO__FORMAT BPF object format invalid (elf: '${garbage}' is not a proper ELF object)`,
    );
  });

  it('a program the verifier rejects carries the verifier log', () => {
    const path = testObject('out-of-bounds');
    const err = catchBpfError(() => BpfObject.load(path));
    expect(err.message).toBe(`bpf_object__load(${path}): EACCES Permission denied (prog 'tc_unchecked_read': BPF program load failed: Permission denied)`);
    expect(err.verifierLog).toContain('invalid access to packet');
  });

  it('a map the kernel refuses to create is named', () => {
    const err = catchBpfError(() => BpfObject.load(testObject('tail-call'), { maxEntries: { jump_table: 0 } }));
    expect(err.code).toBe('EINVAL');
    expect(err.message).toContain('jump_table');
    expect(err.verifierLog).toBeUndefined();
  });

  it('asking for a program or map that is not there names the object and what it has', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('verdict')));
    const prog = catchBpfError(() => obj.program('tc_nope'));
    expect(prog.code).toBe('ENOENT');
    expect(prog.message).toContain(`${testObject('verdict')}:tc_nope`);
    expect(prog.message).toContain('programs in the object: tc_verdict');
    expect(catchBpfError(() => obj.map('nope')).message).toContain('maps in the object: ctsdn_runs');
    expect(catchBpfError(() => BpfObject.load(testObject('verdict'), { maxEntries: { nope: 1 } })).operation).toBe('bpf_map__set_max_entries');
  });
});

