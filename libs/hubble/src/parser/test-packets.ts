/** Crafted packets for tests and benchmarks: Ethernet + IPv4/IPv6 + TCP/UDP/ICMP headers. */

function mac(text: string): number[] {
  return text.split(':').map((h) => parseInt(h, 16));
}

function ipv4(text: string): number[] {
  return text.split('.').map(Number);
}

function ipv6(text: string): number[] {
  const [head = '', tail = ''] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : text.includes('::') ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

export interface PacketSpec {
  readonly srcMac?: string;
  readonly dstMac?: string;
  readonly src: string;
  readonly dst: string;
  readonly l4:
    | { readonly tcp: { readonly sport: number; readonly dport: number; readonly flags: readonly ('FIN' | 'SYN' | 'RST' | 'PSH' | 'ACK' | 'URG' | 'ECE' | 'CWR' | 'NS')[] } }
    | { readonly udp: { readonly sport: number; readonly dport: number } }
    | { readonly icmp: { readonly type: number; readonly code: number } };
  /** IPv4 flags+fragment offset word (e.g. 0x2000 = more fragments). */
  readonly fragment?: number;
  readonly ethernet?: boolean;
}

const flagBits = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export function craftPacket(spec: PacketSpec): Uint8Array {
  const v6 = spec.src.includes(':');
  let l4: number[];
  let proto: number;
  if ('tcp' in spec.l4) {
    const { sport, dport, flags } = spec.l4.tcp;
    let b13 = 0;
    for (const f of flags) if (f !== 'NS') b13 |= flagBits[f];
    const ns = flags.includes('NS') ? 1 : 0;
    l4 = [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, (5 << 4) | ns, b13, 0xff, 0xff, 0, 0, 0, 0];
    proto = 6;
  } else if ('udp' in spec.l4) {
    const { sport, dport } = spec.l4.udp;
    l4 = [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 8, 0, 0];
    proto = 17;
  } else {
    l4 = [spec.l4.icmp.type, spec.l4.icmp.code, 0, 0, 0, 1, 0, 1];
    proto = v6 ? 58 : 1;
  }
  let l3: number[];
  if (v6) {
    l3 = [0x60, 0, 0, 0, l4.length >> 8, l4.length & 0xff, proto, 64, ...ipv6(spec.src), ...ipv6(spec.dst)];
  } else {
    const total = 20 + l4.length;
    const frag = spec.fragment ?? 0x4000;
    l3 = [0x45, 0, total >> 8, total & 0xff, 0, 1, frag >> 8, frag & 0xff, 64, proto, 0, 0, ...ipv4(spec.src), ...ipv4(spec.dst)];
  }
  if (spec.ethernet === false) return Uint8Array.from([...l3, ...l4]);
  const eth = [...mac(spec.dstMac ?? '0a:00:00:00:00:02'), ...mac(spec.srcMac ?? '0a:00:00:00:00:01'), ...(v6 ? [0x86, 0xdd] : [0x08, 0x00])];
  return Uint8Array.from([...eth, ...l3, ...l4]);
}
