import type { Frame, WarningSink } from '../capture/types.js';
import type { AddressKey, Segment } from './types.js';
import { formatIPv6, ipv4Key } from './address.js';
import { u16be, u32be, u32le } from '../util/bytes.js';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];
const PROTO_ICMP = 1;
const PROTO_ICMPV6 = 58;
const PROTO_TCP = 6;
const PROTO_IPV4 = 4;
const PROTO_IPV6 = 41;
/** The payload of every segment that carries none (never written to: it has no bytes). */
const NO_PAYLOAD = Buffer.alloc(0);
/** IPv6 extension headers we walk past: hop-by-hop, routing, destination options, AH. Fragment (44) is handled apart. */
const IPV6_EXTENSIONS = new Set([0, 43, 60, 51]);
/** BSD NULL/LOOP address families for IPv6 differ by OS: Linux, NetBSD/OpenBSD, FreeBSD, macOS. */
const AF_INET = 2;
const AF_INET6 = new Set([10, 24, 28, 30]);

export const LINKTYPE_NAMES: Record<number, string> = {
  0: 'BSD NULL', 1: 'Ethernet', 12: 'Raw IP', 14: 'Raw IP', 101: 'Raw IP', 108: 'BSD LOOP',
  113: 'Linux SLL', 228: 'IPv4', 229: 'IPv6', 276: 'Linux SLL2',
};

/**
 * Link → IP → TCP, working on buffer offsets. Returns the TCP segment a frame carries, or null for
 * anything else (ARP, UDP, …), warning only about what a user should know: malformed headers,
 * fragments we do not reassemble, link types we cannot read.
 */
export class PacketDecoder {
  private readonly unknownLinkTypes = new Set<number>();

  constructor(private readonly warn: WarningSink) {}

  decode(frame: Frame): Segment | null {
    const d = frame.data;
    switch (frame.linkType) {
      case 1: return this.ethernet(frame, d);
      case 0: return this.bsdNull(frame, d, d.length >= 4 && u32le(d, 0) <= 0xffff ? u32le(d, 0) : d.length >= 4 ? u32be(d, 0) : -1);
      case 108: return this.bsdNull(frame, d, d.length >= 4 ? u32be(d, 0) : -1);
      case 12: case 14: case 101: return this.ipByVersion(frame, d, 0);
      case 228: return this.ipv4(frame, d, 0);
      case 229: return this.ipv6(frame, d, 0);
      case 113: return d.length >= 16 ? this.byEthertype(frame, d, u16be(d, 14), 16) : this.malformed(frame, 'Linux SLL header');
      case 276: return d.length >= 20 ? this.byEthertype(frame, d, u16be(d, 0), 20) : this.malformed(frame, 'Linux SLL2 header');
      default:
        if (!this.unknownLinkTypes.has(frame.linkType)) {
          this.unknownLinkTypes.add(frame.linkType);
          this.warn({ frame: frame.number, message: `link type ${frame.linkType} is not supported; its frames are skipped` });
        }
        return null;
    }
  }

  private ethernet(frame: Frame, d: Buffer): Segment | null {
    if (d.length < 14) return this.malformed(frame, 'Ethernet header');
    let off = 12;
    let type = u16be(d, off);
    // 802.1Q / 802.1ad (QinQ) tags, as many as there are.
    while (ETHERTYPE_VLAN.includes(type)) {
      off += 4;
      if (d.length < off + 2) return this.malformed(frame, '802.1Q tag');
      type = u16be(d, off);
    }
    return this.byEthertype(frame, d, type, off + 2);
  }

  private byEthertype(frame: Frame, d: Buffer, type: number, off: number): Segment | null {
    if (type === ETHERTYPE_IPV4) return this.ipv4(frame, d, off);
    if (type === ETHERTYPE_IPV6) return this.ipv6(frame, d, off);
    return null;
  }

  private bsdNull(frame: Frame, d: Buffer, family: number): Segment | null {
    if (family === AF_INET) return this.ipv4(frame, d, 4);
    if (AF_INET6.has(family)) return this.ipv6(frame, d, 4);
    return null;
  }

  private ipByVersion(frame: Frame, d: Buffer, off: number): Segment | null {
    if (d.length <= off) return this.malformed(frame, 'IP header');
    const version = d[off]! >> 4;
    if (version === 4) return this.ipv4(frame, d, off);
    if (version === 6) return this.ipv6(frame, d, off);
    return null;
  }

  private ipv4(frame: Frame, d: Buffer, off: number): Segment | null {
    if (d.length < off + 20) return this.malformed(frame, 'IPv4 header');
    const ihl = (d[off]! & 0x0f) * 4;
    const totalLen = u16be(d, off + 2);
    if (d[off]! >> 4 !== 4 || ihl < 20 || d.length < off + ihl) return this.malformed(frame, 'IPv4 header');
    if (totalLen < ihl) return this.malformed(frame, `IPv4 total length ${totalLen}`);
    const proto = d[off + 9]!;
    if (proto === PROTO_ICMP) return this.icmpQuote(d, off + ihl, [3, 4, 5, 11, 12], (q) => this.ipv4(frame, d, q));
    if (proto !== PROTO_TCP && proto !== PROTO_IPV6) return null;
    const frag = u16be(d, off + 6);
    if ((frag & 0x2000) !== 0 || (frag & 0x1fff) !== 0) {
      this.warn({ frame: frame.number, message: 'IPv4 fragment: fragments are not reassembled; skipped' });
      return null;
    }
    // The IP length, not the frame length, bounds the payload: Ethernet pads short frames.
    const end = off + totalLen;
    if (proto === PROTO_IPV6) return this.ipv6(frame, d.subarray(0, Math.min(end, d.length)), off + ihl);
    return this.tcp(frame, d, off + ihl, end, ipv4Key(d, off + 12), ipv4Key(d, off + 16));
  }

  private ipv6(frame: Frame, d: Buffer, off: number): Segment | null {
    if (d.length < off + 40) return this.malformed(frame, 'IPv6 header');
    if (d[off]! >> 4 !== 6) return this.malformed(frame, 'IPv6 header');
    const end = off + 40 + u16be(d, off + 4);
    let next = d[off + 6]!;
    let p = off + 40;
    while (IPV6_EXTENSIONS.has(next)) {
      if (d.length < p + 8) return this.malformed(frame, 'IPv6 extension header');
      const len = next === 51 ? (d[p + 1]! + 2) * 4 : (d[p + 1]! + 1) * 8;
      next = d[p]!;
      p += len;
    }
    if (next === 44) {
      this.warn({ frame: frame.number, message: 'IPv6 fragment: fragments are not reassembled; skipped' });
      return null;
    }
    if (next === PROTO_ICMPV6) return this.icmpQuote(d, p, [1, 2, 3, 4], (q) => this.ipv6(frame, d, q));
    if (next === PROTO_IPV4) return this.ipv4(frame, d.subarray(0, Math.min(end, d.length)), p);
    if (next === PROTO_IPV6) return this.ipv6(frame, d.subarray(0, Math.min(end, d.length)), p);
    if (next !== PROTO_TCP) return null;
    return this.tcp(frame, d, p, end, formatIPv6(d, off + 8), formatIPv6(d, off + 24));
  }

  /**
   * ICMP errors quote the IP and TCP header of the packet that caused them. Wireshark counts the quoted
   * connection as a TCP conversation (a tcp.stream number), so we report it too, marked `quoted`.
   */
  private icmpQuote(d: Buffer, off: number, errorTypes: number[], inner: (at: number) => Segment | null): Segment | null {
    if (this.quoting || d.length < off + 8 || !errorTypes.includes(d[off]!)) return null;
    this.quoting = true;
    try {
      const seg = inner(off + 8);
      return seg ? { ...seg, quoted: true, payload: NO_PAYLOAD, missingPayload: 0 } : null;
    } finally {
      this.quoting = false;
    }
  }

  private quoting = false;

  /** `end` is where the IP packet says it ends; bytes past the captured data were cut by the snaplen. */
  private tcp(frame: Frame, d: Buffer, off: number, end: number, src: AddressKey, dst: AddressKey): Segment | null {
    if (this.quoting && d.length >= off + 8 && d.length < off + 20) {
      // ICMPv4 quotes only the first 8 bytes of TCP: ports and sequence number are enough.
      return { frame, src, dst, srcPort: u16be(d, off), dstPort: u16be(d, off + 2), seq: u32be(d, off + 4), ack: 0, flags: 0, window: 0, payload: NO_PAYLOAD, missingPayload: 0 };
    }
    if (d.length < off + 20) return this.malformed(frame, 'TCP header');
    const hlen = (d[off + 12]! >> 4) * 4;
    if (hlen < 20 || off + hlen > end) return this.malformed(frame, `TCP header length ${hlen}`);
    const start = Math.min(off + hlen, d.length);
    const capturedEnd = Math.min(end, d.length);
    return {
      frame,
      src,
      dst,
      srcPort: u16be(d, off),
      dstPort: u16be(d, off + 2),
      seq: u32be(d, off + 4),
      ack: u32be(d, off + 8),
      flags: d[off + 13]!,
      window: u16be(d, off + 14),
      // Most segments of a sync are bare ACKs: they share one empty payload instead of a view each.
      payload: capturedEnd > start ? d.subarray(start, capturedEnd) : NO_PAYLOAD,
      missingPayload: Math.max(0, end - Math.max(off + hlen, d.length)),
    };
  }

  private malformed(frame: Frame, what: string): null {
    this.warn({ frame: frame.number, message: `malformed or truncated ${what}; frame skipped` });
    return null;
  }
}
