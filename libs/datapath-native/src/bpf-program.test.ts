import { afterEach, describe, expect, it } from 'vitest';
import { BpfObject } from './bpf-object.js';
import { Scratch, testObject } from '../test/support/scratch.js';

const scratch = new Scratch();
afterEach(() => scratch.cleanup());

const TC_ACT_SHOT = 2;
const XDP_PASS = 2;

/** An Ethernet + IPv4 header, enough for tc and XDP to accept as a packet. */
function ipv4Packet(): Buffer {
  const p = Buffer.alloc(64);
  p.set([0x02, 0, 0, 0, 0, 0x01], 0); // destination MAC
  p.set([0x02, 0, 0, 0, 0, 0x02], 6); // source MAC
  p.writeUInt16BE(0x0800, 12);
  p[14] = 0x45;
  p.writeUInt16BE(50, 16);
  p[23] = 17; // UDP
  p.set([10, 0, 0, 1], 26);
  p.set([10, 0, 0, 2], 30);
  return p;
}

describe('BpfProgram.testRun', () => {
  it('returns the verdict, the packet as the program left it, and the kernel-measured duration', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('verdict'), { constants: { verdict: TC_ACT_SHOT, dst_mac_first_byte: 0x7e } }));
    const input = ipv4Packet();
    const result = obj.program('tc_verdict').testRun({ data: input, repeat: 1000 });
    expect(result.retval).toBe(TC_ACT_SHOT);
    expect(result.data).toHaveLength(input.length);
    expect(result.data[0]).toBe(0x7e);
    expect(result.data.subarray(1)).toEqual(input.subarray(1));
    expect(input[0]).toBe(0x02); // the caller's Buffer is not touched
    expect(result.durationNs).toBeGreaterThan(0);
    expect(result.ctx).toBeUndefined();
    // Every repetition ran the program.
    expect(obj.map('ctsdn_runs').lookup(Buffer.alloc(4))?.readBigUInt64LE()).toBe(1000n);
  });

  it('takes a __sk_buff context in and returns it', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('basic')));
    const skb = Buffer.alloc(192); // struct __sk_buff
    skb.writeUInt32LE(0x1234, 8); // mark
    const result = obj.program('tc_pass').testRun({ data: ipv4Packet(), ctx: skb });
    expect(result.retval).toBe(0);
    expect(result.ctx?.readUInt32LE(8)).toBe(0x1234);
  });

  it('runs XDP programs', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('basic')));
    const xdp = obj.program('xdp_pass');
    expect(xdp.type).toBe('xdp');
    expect(xdp.testRun({ data: ipv4Packet() }).retval).toBe(XDP_PASS);
  });

  it('the kernel refuses a packet shorter than an Ethernet header, and the error names the program', () => {
    const obj = scratch.closeLater(BpfObject.load(testObject('verdict')));
    expect(() => obj.program('tc_verdict').testRun({ data: Buffer.alloc(13) })).toThrow(
      'bpf_prog_test_run_opts(tc_verdict): EINVAL Invalid argument',
    );
  });
});
