import { IPVersion } from '@cilium-ts/proto';
import { describe, expect, it } from 'vitest';
import { formatIPv6 } from './address-format.js';
import { decodePacket } from './packet-decoder.js';
import { craftPacket } from './test-packets.js';

describe('decodePacket', () => {
  it('decodes Ethernet, IPv4 and TCP with the flags in upstream summary order', () => {
    const d = decodePacket(craftPacket({ srcMac: '02:aa:bb:cc:dd:ee', src: '10.0.1.5', dst: '10.0.2.7', l4: { tcp: { sport: 40000, dport: 80, flags: ['ACK', 'SYN'] } } }));
    expect(d.ethernet).toMatchObject({ source: '02:aa:bb:cc:dd:ee', destination: '0a:00:00:00:00:02' });
    expect(d.ip).toMatchObject({ source: '10.0.1.5', destination: '10.0.2.7', ipVersion: IPVersion.IPv4 });
    expect(d.sourcePort).toBe(40000);
    expect(d.destinationPort).toBe(80);
    expect(d.summary).toBe('TCP Flags: SYN, ACK');
  });

  it('lists every flag in the order SYN ACK RST FIN PSH URG ECE CWR NS', () => {
    const all = ['NS', 'CWR', 'ECE', 'URG', 'PSH', 'FIN', 'RST', 'ACK', 'SYN'] as const;
    const d = decodePacket(craftPacket({ src: '1.1.1.1', dst: '2.2.2.2', l4: { tcp: { sport: 1, dport: 2, flags: all } } }));
    expect(d.summary).toBe('TCP Flags: SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS');
  });

  it('names UDP by its layer', () => {
    const d = decodePacket(craftPacket({ src: '10.0.0.1', dst: '10.0.0.2', l4: { udp: { sport: 5353, dport: 53 } } }));
    expect(d.summary).toBe('UDP');
    expect(d.l4).toMatchObject({ protocol: { case: 'UDP', value: { sourcePort: 5353, destinationPort: 53 } } });
  });

  it('prints ICMP type and code like gopacket', () => {
    const text = (type: number, code: number, v6 = false) =>
      decodePacket(craftPacket({ src: v6 ? 'fd00::1' : '10.0.0.1', dst: v6 ? 'fd00::2' : '10.0.0.2', l4: { icmp: { type, code } } })).summary;
    expect(text(8, 0)).toBe('ICMPv4 EchoRequest');
    expect(text(0, 0)).toBe('ICMPv4 EchoReply');
    expect(text(3, 3)).toBe('ICMPv4 DestinationUnreachable(Port)');
    expect(text(11, 0)).toBe('ICMPv4 TimeExceeded(TTLExceeded)');
    expect(text(8, 1)).toBe('ICMPv4 EchoRequest(Code: 1)');
    expect(text(42, 7)).toBe('ICMPv4 42(7)');
    expect(text(128, 0, true)).toBe('ICMPv6 EchoRequest');
    expect(text(135, 0, true)).toBe('ICMPv6 NeighborSolicitation');
    expect(text(1, 4, true)).toBe('ICMPv6 DestinationUnreachable(PortUnreachable)');
  });

  it('decodes IPv6 with RFC 5952 addresses', () => {
    const d = decodePacket(craftPacket({ src: 'fd00:10:244::5', dst: 'fd00::1:0:0:7', l4: { udp: { sport: 1, dport: 2 } } }));
    expect(d.ip).toMatchObject({ source: 'fd00:10:244::5', destination: 'fd00::1:0:0:7', ipVersion: IPVersion.IPv6 });
    expect(formatIPv6(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]), 0)).toBe('10.0.0.1');
    expect(formatIPv6(Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]), 0)).toBe('2001:db8::1:0:0:1');
  });

  it('decodes packets from L3 devices without an Ethernet header', () => {
    const d = decodePacket(craftPacket({ src: '10.0.0.1', dst: '10.0.0.2', ethernet: false, l4: { udp: { sport: 1, dport: 2 } } }), 'ipv4');
    expect(d.ethernet).toBeUndefined();
    expect(d.summary).toBe('UDP');
  });

  it('stops at layers it does not decode, keeping the outer ones', () => {
    const fragment = decodePacket(craftPacket({ src: '10.0.0.1', dst: '10.0.0.2', fragment: 0x2000, l4: { udp: { sport: 1, dport: 2 } } }));
    expect(fragment.l4).toBeUndefined();
    expect(fragment.summary).toBe('IPv4');
    const arp = craftPacket({ src: '10.0.0.1', dst: '10.0.0.2', l4: { udp: { sport: 1, dport: 2 } } });
    arp[12] = 0x08;
    arp[13] = 0x06;
    const d = decodePacket(arp);
    expect(d.ip).toBeUndefined();
    expect(d.summary).toBe('Ethernet');
  });

  it('never throws on truncated or garbage input', () => {
    const full = craftPacket({ src: '10.0.0.1', dst: '10.0.0.2', l4: { tcp: { sport: 1, dport: 2, flags: ['SYN'] } } });
    for (let len = 0; len < full.length; len++) {
      const d = decodePacket(full.subarray(0, len));
      if (len < 14) expect(d.summary).toBe('');
      else if (len < 34) expect(d.summary).toBe('Ethernet');
      else if (len < 54) expect(d.summary).toBe('IPv4');
    }
    expect(() => decodePacket(Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff))).not.toThrow();
  });
});
