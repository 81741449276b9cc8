/**
 * Synthetic capture writer for tests: builds pcap / pcapng files from a description, so edge cases that real
 * traffic rarely shows (odd link types, tunnels, VLAN stacks, sequence wrap, SPB/PB blocks, several sections,
 * truncated files) can be produced on demand. Node built-ins only.
 */
import { writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { Endpoint, Side } from '../../src/tcp/types.js';

// ---------------------------------------------------------------------------------------------------------------
// Public description types

/** LINKTYPE_* values this writer can encapsulate. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export type PcapngBlockKind = 'epb' | 'spb' | 'pb';

export interface SynthPacket {
  /** Seconds since the epoch as a number (taken as the decimal it prints as), or exact nanoseconds as a bigint. */
  t: number | bigint;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  /** TCP flags as letters: S A P F R U E C, e.g. 'S', 'SA', 'PA', 'FA', 'RA'. */
  flags: string;
  payload?: Buffer | string;
  window?: number;
  /** Raw TCP options (padded to 4 bytes with EOL). */
  tcpOptions?: Buffer;
  /** Raw IPv4 options (padded to 4 bytes with EOL, at most 40 bytes). */
  ipv4Options?: Buffer;
  /** Insert a hop-by-hop and a destination options header between IPv6 and TCP. */
  ipv6ExtHeaders?: boolean;
  /** 802.1Q VLAN ids, outermost first (Ethernet only); two or more make QinQ (outer tags use TPID 0x88a8). */
  vlan?: number[];
  /** Wrap the (IPv6) packet in IPv4 protocol 41 between these addresses. */
  tunnel6in4?: { src: string; dst: string };
  /** Mark the IPv4 packet as a first fragment (MF set, offset 0). */
  fragment?: boolean;
  /** Store only this many bytes of the frame; the original length stays the full size. */
  snaplen?: number;
  /** pcapng: index of the interface (IDB) within the packet's section. Default 0. */
  iface?: number;
  /** pcapng: block type to store the packet in. Default 'epb'. SPBs have no timestamp and use interface 0. */
  block?: PcapngBlockKind;
}

export interface SynthInterface {
  linkType: number;
  /** if_tsresol byte: 10^-n seconds, or 2^-(n & 0x7f) with the top bit set. Omitted: no option (= 6). */
  tsresol?: number;
  /** IDB SnapLen; 0 (default) means unlimited. SPB captured lengths are cut to it. */
  snaplen?: number;
}

export interface SynthSection {
  /** Index of the first packet that belongs to this (non-first) section. */
  at: number;
  bigEndian?: boolean;
  /** IDBs of this section; default: the capture's interfaces again. */
  interfaces?: SynthInterface[];
}

export interface SynthCapture {
  format: 'pcap' | 'pcapng';
  /** Link type of the only interface (pcap, or pcapng without `interfaces`). Default 1 (Ethernet). */
  linkType?: number;
  /** pcap: nanosecond magic a1b23c4d; pcapng: if_tsresol=9 on the default interface. */
  nanosecond?: boolean;
  bigEndian?: boolean;
  packets: SynthPacket[];
  /** pcapng only: the IDBs of the first section. */
  interfaces?: SynthInterface[];
  /** pcapng only: further sections (each starts with a new SHB and its own IDBs). */
  sections?: SynthSection[];
  /** pcapng only: insert a local-use block (type 0x80000BAD) after the IDBs of every section; readers skip it. */
  unknownBlocks?: boolean;
  /**
   * pcapng only: insert a custom block (type 0x40000BAD, PEN 32473) after the IDBs of every section.
   * Beware: Wireshark 4.0 lists a custom block as a frame of its own, so frame.number shifts by one per block.
   */
  customBlocks?: boolean;
  /** pcapng only: a Decryption Secrets Block (TLS key log) after the first section's IDBs. */
  decryptionSecrets?: string;
  /** Cut this many bytes off the end of the file, leaving a partial last record. */
  truncateLastRecord?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Time

const NS_PER_SEC = 1_000_000_000n;

/** Exact nanoseconds since the epoch. A number is read as its shortest decimal form, so 1.000001 is exact. */
export function toNs(t: number | bigint): bigint {
  if (typeof t === 'bigint') return t;
  if (!Number.isFinite(t) || t < 0) throw new RangeError(`bad timestamp ${t}`);
  // Fast path: a whole number of microseconds (what TcpFlow produces) round-trips through the division.
  const us = Math.round(t * 1e6);
  if (us / 1e6 === t) return BigInt(us) * 1000n;
  let text = String(t);
  if (/e/i.test(text) || (text.split('.')[1] ?? '').length > 9) text = t.toFixed(9);
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole!) * NS_PER_SEC + BigInt((frac + '000000000').slice(0, 9));
}

/** Timestamp units per second for an if_tsresol byte. */
function unitsPerSecond(tsresol: number): bigint {
  const exp = BigInt(tsresol & 0x7f);
  return tsresol & 0x80 ? 2n ** exp : 10n ** exp;
}

/** Nanoseconds converted to a resolution, truncating what it cannot hold. */
export function nsToUnits(ns: bigint, tsresol: number): bigint {
  return (ns * unitsPerSecond(tsresol)) / NS_PER_SEC;
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses and checksums

function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

function ipv6Bytes(text: string): Buffer {
  let head = text;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    // An embedded IPv4 address (::ffff:192.0.2.1) fills the last two groups.
    const v4 = ipv4Bytes(dotted[2]!);
    tail.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
    head = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [left, right] = head.split('::') as [string, string | undefined];
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const zeros = right === undefined ? 0 : 8 - l.length - r.length - tail.length;
  const words = [...l, ...new Array<number>(zeros).fill(0), ...r, ...tail];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

const addressCache = new Map<string, Buffer>();

/** 4 or 16 address bytes for dotted IPv4 or IPv6 text (shared: do not modify). */
export function ipBytes(text: string): Buffer {
  let bytes = addressCache.get(text);
  if (bytes) return bytes;
  if (isIPv4(text)) bytes = ipv4Bytes(text);
  else if (isIPv6(text)) bytes = ipv6Bytes(text);
  else throw new Error(`not an IP address: ${text}`);
  addressCache.set(text, bytes);
  return bytes;
}

/** Sum of big-endian 16-bit words (odd tail padded with zero), not yet folded. */
function sum16(buf: Buffer, acc = 0): number {
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length & 1) acc += buf[buf.length - 1]! << 8;
  return acc;
}

function foldChecksum(acc: number): number {
  while (acc > 0xffff) acc = (acc % 0x10000) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

// ---------------------------------------------------------------------------------------------------------------
// Frame encoding (link layer + IP + TCP)

const TCP_FLAG_BITS: Record<string, number> = {
  F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80,
};

function tcpFlags(letters: string): number {
  let bits = 0;
  for (const ch of letters) {
    const bit = TCP_FLAG_BITS[ch];
    if (bit === undefined) throw new Error(`unknown TCP flag '${ch}' in '${letters}'`);
    bits |= bit;
  }
  return bits;
}

function padTo4(buf: Buffer): Buffer {
  const rem = buf.length % 4;
  return rem === 0 ? buf : Buffer.concat([buf, Buffer.alloc(4 - rem)]);
}

function payloadOf(p: SynthPacket): Buffer {
  if (p.payload === undefined) return Buffer.alloc(0);
  return typeof p.payload === 'string' ? Buffer.from(p.payload, 'latin1') : p.payload;
}

const IPPROTO_HOPOPTS = 0;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const IPPROTO_DSTOPTS = 60;

/** TCP header, checksummed over the pseudo header of the given addresses and the payload. */
function tcpHeader(p: SynthPacket, src: Buffer, dst: Buffer, payload: Buffer): Buffer {
  const options = padTo4(p.tcpOptions ?? Buffer.alloc(0));
  const hlen = 20 + options.length;
  const h = Buffer.alloc(hlen);
  h.writeUInt16BE(p.sport, 0);
  h.writeUInt16BE(p.dport, 2);
  h.writeUInt32BE(p.seq >>> 0, 4);
  h.writeUInt32BE((p.ack ?? 0) >>> 0, 8);
  h.writeUInt16BE(((hlen / 4) << 12) | tcpFlags(p.flags), 12);
  h.writeUInt16BE(p.window ?? 65535, 14);
  options.copy(h, 20);
  // Pseudo header: addresses, protocol, TCP length (same sum for IPv4 and IPv6 when the length fits 16 bits).
  // The header's length is a multiple of 4, so summing it apart from the payload keeps words aligned.
  const pseudo = sum16(src, sum16(dst, IPPROTO_TCP + hlen + payload.length));
  h.writeUInt16BE(foldChecksum(sum16(h, sum16(payload, pseudo))), 16);
  return h;
}

type Ipv4Knobs = Pick<SynthPacket, 'ipv4Options' | 'fragment'>;

function ipv4Header(src: Buffer, dst: Buffer, proto: number, bodyLen: number, ipId: number, p: Ipv4Knobs): Buffer {
  const options = padTo4(p.ipv4Options ?? Buffer.alloc(0));
  if (options.length > 40) throw new Error('IPv4 options longer than 40 bytes');
  const hlen = 20 + options.length;
  const h = Buffer.alloc(hlen);
  h[0] = 0x40 | (hlen / 4);
  h.writeUInt16BE(hlen + bodyLen, 2);
  h.writeUInt16BE(ipId & 0xffff, 4);
  h.writeUInt16BE(p.fragment ? 0x2000 : 0x4000, 6); // MF, or DF as real stacks send
  h[8] = 64;
  h[9] = proto;
  src.copy(h, 12);
  dst.copy(h, 16);
  options.copy(h, 20);
  h.writeUInt16BE(foldChecksum(sum16(h)), 10);
  return h;
}

/** IPv6 header, followed when asked by a hop-by-hop and a destination options header (8 bytes, one PadN each). */
function ipv6Header(src: Buffer, dst: Buffer, bodyLen: number, p: SynthPacket): Buffer {
  const extLen = p.ipv6ExtHeaders ? 16 : 0;
  const h = Buffer.alloc(40 + extLen);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(extLen + bodyLen, 4);
  h[6] = p.ipv6ExtHeaders ? IPPROTO_HOPOPTS : IPPROTO_TCP;
  h[7] = 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  if (p.ipv6ExtHeaders) {
    h.set([IPPROTO_DSTOPTS, 0, 1, 4], 40);
    h.set([IPPROTO_TCP, 0, 1, 4], 48);
  }
  return h;
}

/** The IP and TCP headers (outermost first) in front of the payload, and whether the outer IP is IPv6. */
function networkHeaders(p: SynthPacket, ipId: number, payload: Buffer): { headers: Buffer[]; v6: boolean } {
  const src = ipBytes(p.src);
  const dst = ipBytes(p.dst);
  if (src.length !== dst.length) throw new Error(`address families differ: ${p.src} -> ${p.dst}`);
  const tcp = tcpHeader(p, src, dst, payload);
  const tcpLen = tcp.length + payload.length;
  if (src.length === 4) {
    if (p.tunnel6in4) throw new Error('tunnel6in4 needs IPv6 inner addresses');
    return { headers: [ipv4Header(src, dst, IPPROTO_TCP, tcpLen, ipId, p), tcp], v6: false };
  }
  const inner = ipv6Header(src, dst, tcpLen, p);
  if (!p.tunnel6in4) return { headers: [inner, tcp], v6: true };
  // The outer header is the packet's only IPv4 header: ipv4Options and fragment apply to it.
  const t = p.tunnel6in4;
  const outer = ipv4Header(ipBytes(t.src), ipBytes(t.dst), IPPROTO_IPV6, inner.length + tcpLen, ipId, p);
  return { headers: [outer, inner, tcp], v6: false };
}

/** A locally administered MAC derived from the address, so each host keeps one MAC. */
function macFor(ip: string): Buffer {
  const cached = macCache.get(ip);
  if (cached) return cached;
  const b = ipBytes(ip);
  const mac = Buffer.from([0x02, 0x00, 0, 0, 0, 0]);
  for (let i = 0; i < b.length; i++) mac[2 + (i % 4)] ^= b[i]!;
  macCache.set(ip, mac);
  return mac;
}
const macCache = new Map<string, Buffer>();

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;

function ethernetHeader(p: SynthPacket, ethertype: number): Buffer {
  const tags = p.vlan ?? [];
  const h = Buffer.alloc(14 + 4 * tags.length);
  macFor(p.dst).copy(h, 0);
  macFor(p.src).copy(h, 6);
  tags.forEach((vid, i) => {
    // Outer tags of a stack use the 802.1ad TPID; the innermost uses 802.1Q.
    h.writeUInt16BE(i < tags.length - 1 ? 0x88a8 : 0x8100, 12 + 4 * i);
    h.writeUInt16BE(vid & 0x0fff, 14 + 4 * i);
  });
  h.writeUInt16BE(ethertype, 12 + 4 * tags.length);
  return h;
}

/** Linux cooked header v1: packet type, ARPHRD_ETHER, 6-byte address in 8, protocol. */
function sllHeader(p: SynthPacket, ethertype: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  macFor(p.src).copy(h, 6);
  h.writeUInt16BE(ethertype, 14);
  return h;
}

/** Linux cooked header v2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address. */
function sll2Header(p: SynthPacket, ethertype: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(ethertype, 0);
  h.writeUInt32BE(1, 4);
  h.writeUInt16BE(1, 8);
  h[10] = 0;
  h[11] = 6;
  macFor(p.src).copy(h, 12);
  return h;
}

/** NULL / LOOP: 4-byte address family (BSD values; LOOP is always big-endian, NULL in the writer's order). */
function afHeader(v6: boolean, bigEndian: boolean, inet6: number): Buffer {
  const h = Buffer.alloc(4);
  const af = v6 ? inet6 : 2;
  if (bigEndian) h.writeUInt32BE(af);
  else h.writeUInt32LE(af);
  return h;
}

const AF_INET6_DARWIN = 30;
const AF_INET6_OPENBSD = 24;

/**
 * The whole frame as it was on the wire for `linkType`. `ipId` fills the IPv4 identification field;
 * `bigEndian` is the byte order of the host that wrote the file (matters for LINKTYPE_NULL only).
 */
export function encodeFrame(p: SynthPacket, linkType: number, ipId = 0, bigEndian = false): Buffer {
  return Buffer.concat(encodeFrameParts(p, linkType, ipId, bigEndian));
}

/** encodeFrame as separate pieces (headers, then the payload itself), for writers that gather them anyway. */
export function encodeFrameParts(p: SynthPacket, linkType: number, ipId = 0, bigEndian = false): Buffer[] {
  if (p.vlan && linkType !== LINKTYPE.ETHERNET) throw new Error('vlan tags need an Ethernet link type');
  const payload = payloadOf(p);
  const net = networkHeaders(p, ipId, payload);
  return [linkHeader(p, linkType, net.v6, bigEndian), ...net.headers, payload];
}

function linkHeader(p: SynthPacket, linkType: number, v6: boolean, bigEndian: boolean): Buffer {
  const ethertype = v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return ethernetHeader(p, ethertype);
    case LINKTYPE.NULL:
      return afHeader(v6, bigEndian, AF_INET6_DARWIN);
    case LINKTYPE.LOOP:
      return afHeader(v6, true, AF_INET6_OPENBSD);
    case LINKTYPE.RAW:
      return Buffer.alloc(0);
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      if (v6 !== (linkType === LINKTYPE.IPV6)) throw new Error(`link type ${linkType} cannot carry ${p.src}`);
      return Buffer.alloc(0);
    case LINKTYPE.LINUX_SLL:
      return sllHeader(p, ethertype);
    case LINKTYPE.LINUX_SLL2:
      return sll2Header(p, ethertype);
    default:
      throw new Error(`unsupported link type ${linkType}`);
  }
}

/** Captured length after the packet's own snaplen. */
function capturedLength(p: SynthPacket, frameLen: number): number {
  return p.snaplen === undefined ? frameLen : Math.min(p.snaplen, frameLen);
}

// ---------------------------------------------------------------------------------------------------------------
// Endian-aware field writer

class Fields {
  private readonly parts: Buffer[] = [];
  constructor(private readonly bigEndian: boolean) {}

  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.bigEndian) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.bigEndian) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  /** 64-bit value written as two 32-bit words, high word first (pcapng timestamps). */
  u32pair(v: bigint): this {
    return this.u32(Number((v >> 32n) & 0xffffffffn)).u32(Number(v & 0xffffffffn));
  }
  i64(v: bigint): this {
    const b = Buffer.alloc(8);
    if (this.bigEndian) b.writeBigInt64BE(v);
    else b.writeBigInt64LE(v);
    this.parts.push(b);
    return this;
  }
  /** Raw bytes, zero-padded to a 32-bit boundary. */
  padded(bytes: Buffer): this {
    this.parts.push(padTo4(bytes));
    return this;
  }
  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Classic pcap

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const DEFAULT_SNAPLEN = 262144;

export function pcapFileHeader(linkType: number, nanosecond = false, bigEndian = false): Buffer {
  return new Fields(bigEndian)
    .u32(nanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US)
    .u16(2)
    .u16(4)
    .u32(0) // thiszone
    .u32(0) // sigfigs
    .u32(DEFAULT_SNAPLEN)
    .u32(linkType)
    .done();
}

/** A record header: time (truncated to the file's resolution), captured length, original length. */
export function pcapRecordHeader(
  t: number | bigint,
  capLen: number,
  origLen: number,
  nanosecond = false,
  bigEndian = false,
): Buffer {
  const ns = toNs(t);
  const sec = Number(ns / NS_PER_SEC);
  const frac = Number(nanosecond ? ns % NS_PER_SEC : (ns % NS_PER_SEC) / 1000n);
  const h = Buffer.alloc(16);
  const put = (bigEndian ? h.writeUInt32BE : h.writeUInt32LE).bind(h);
  put(sec, 0);
  put(frac, 4);
  put(capLen, 8);
  put(origLen, 12);
  return h;
}

/** One record: header, then the captured bytes. */
export function pcapRecord(
  t: number | bigint,
  frame: Buffer,
  origLen: number,
  nanosecond = false,
  bigEndian = false,
): Buffer {
  return Buffer.concat([pcapRecordHeader(t, frame.length, origLen, nanosecond, bigEndian), frame]);
}

function buildPcap(c: SynthCapture): Buffer {
  if (c.interfaces || c.sections || c.unknownBlocks || c.customBlocks || c.decryptionSecrets !== undefined) {
    throw new Error('interfaces, sections, unknown/custom blocks and decryption secrets are pcapng-only');
  }
  const linkType = c.linkType ?? LINKTYPE.ETHERNET;
  const be = c.bigEndian ?? false;
  const parts = [pcapFileHeader(linkType, c.nanosecond, be)];
  c.packets.forEach((p, i) => {
    if ((p.iface ?? 0) !== 0 || p.block) throw new Error(`packet ${i}: iface/block are pcapng-only`);
    const frame = encodeFrame(p, linkType, i + 1, be);
    parts.push(pcapRecord(p.t, frame.subarray(0, capturedLength(p, frame.length)), frame.length, c.nanosecond, be));
  });
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// pcapng

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_PB = 0x00000002;
const BT_SPB = 0x00000003;
const BT_EPB = 0x00000006;
const BT_DSB = 0x0000000a;
const BT_CUSTOM_NOCOPY = 0x40000bad;
const BT_LOCAL_USE = 0x80000bad;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const SECRETS_TLS_KEYLOG = 0x544c534b;
const EXAMPLE_PEN = 32473; // RFC 5612 documentation enterprise number

/** A block: type, total length, body, total length again. */
function block(type: number, body: Buffer, be: boolean): Buffer {
  const total = 12 + body.length;
  if (total % 4 !== 0) throw new Error('pcapng block body not 32-bit aligned');
  return new Fields(be).u32(type).u32(total).raw(body).u32(total).done();
}

/** Options list with the opt_endofopt terminator; empty list writes nothing. */
function options(list: [code: number, value: Buffer][], be: boolean): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  const f = new Fields(be);
  for (const [code, value] of list) f.u16(code).u16(value.length).padded(value);
  return f.u16(0).u16(0).done();
}

function sectionHeader(be: boolean): Buffer {
  const opts = options([[4, Buffer.from('imapscope synth')]], be); // shb_userappl
  return block(BT_SHB, new Fields(be).u32(BYTE_ORDER_MAGIC).u16(1).u16(0).i64(-1n).raw(opts).done(), be);
}

function interfaceDescription(i: SynthInterface, be: boolean): Buffer {
  const opts = options(i.tsresol === undefined ? [] : [[9, Buffer.from([i.tsresol])]], be);
  return block(BT_IDB, new Fields(be).u16(i.linkType).u16(0).u32(i.snaplen ?? 0).raw(opts).done(), be);
}

function decryptionSecretsBlock(secrets: string, be: boolean): Buffer {
  const data = Buffer.from(secrets);
  return block(BT_DSB, new Fields(be).u32(SECRETS_TLS_KEYLOG).u32(data.length).padded(data).done(), be);
}

/** A block type nobody defines (local use): readers must skip it by its length. */
function localUseBlock(be: boolean): Buffer {
  return block(BT_LOCAL_USE, Buffer.from('local use block!'), be);
}

function customBlock(be: boolean): Buffer {
  return block(BT_CUSTOM_NOCOPY, new Fields(be).u32(EXAMPLE_PEN).padded(Buffer.from('skip me')).done(), be);
}

function packetBlock(p: SynthPacket, iface: SynthInterface, ifIndex: number, frame: Buffer, be: boolean): Buffer {
  const kind = p.block ?? 'epb';
  if (kind === 'spb') {
    // SPB: no captured-length field; readers take min(original length, IDB SnapLen).
    if (ifIndex !== 0) throw new Error('SPB packets belong to interface 0');
    const cap = iface.snaplen ? Math.min(iface.snaplen, frame.length) : frame.length;
    if (p.snaplen !== undefined && p.snaplen !== cap) throw new Error('SPB snaplen comes from interface 0 SnapLen');
    return block(BT_SPB, new Fields(be).u32(frame.length).padded(frame.subarray(0, cap)).done(), be);
  }
  const cap = frame.subarray(0, capturedLength(p, frame.length));
  const units = nsToUnits(toNs(p.t), iface.tsresol ?? 6);
  const f = new Fields(be);
  if (kind === 'epb') f.u32(ifIndex);
  else f.u16(ifIndex).u16(0); // PB: 16-bit interface id, drops count
  f.u32pair(units).u32(cap.length).u32(frame.length).padded(cap);
  return block(kind === 'epb' ? BT_EPB : BT_PB, f.done(), be);
}

interface SectionPlan {
  at: number;
  bigEndian: boolean;
  interfaces: SynthInterface[];
}

function sectionPlans(c: SynthCapture): SectionPlan[] {
  const interfaces = c.interfaces ?? [
    { linkType: c.linkType ?? LINKTYPE.ETHERNET, tsresol: c.nanosecond ? 9 : undefined },
  ];
  const first: SectionPlan = { at: 0, bigEndian: c.bigEndian ?? false, interfaces };
  const rest = (c.sections ?? []).map((s) => ({
    at: s.at,
    bigEndian: s.bigEndian ?? first.bigEndian,
    interfaces: s.interfaces ?? interfaces,
  }));
  const plans = [first, ...rest];
  plans.forEach((s, i) => {
    if (i > 0 && s.at <= plans[i - 1]!.at) throw new Error('sections must start at increasing packet indexes');
  });
  return plans;
}

function buildPcapng(c: SynthCapture): Buffer {
  const parts: Buffer[] = [];
  const plans = sectionPlans(c);
  plans.forEach((s, si) => {
    const be = s.bigEndian;
    parts.push(sectionHeader(be), ...s.interfaces.map((i) => interfaceDescription(i, be)));
    if (c.unknownBlocks) parts.push(localUseBlock(be));
    if (c.customBlocks) parts.push(customBlock(be));
    if (si === 0 && c.decryptionSecrets !== undefined) parts.push(decryptionSecretsBlock(c.decryptionSecrets, be));
    const end = plans[si + 1]?.at ?? c.packets.length;
    for (let i = s.at; i < end; i++) {
      const p = c.packets[i]!;
      const ifIndex = p.iface ?? 0;
      const iface = s.interfaces[ifIndex];
      if (!iface) throw new Error(`packet ${i}: no interface ${ifIndex} in its section`);
      const frame = encodeFrame(p, iface.linkType, i + 1, be);
      parts.push(packetBlock(p, iface, ifIndex, frame, be));
    }
  });
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// Whole files

export function buildCapture(c: SynthCapture): Buffer {
  const file = c.format === 'pcap' ? buildPcap(c) : buildPcapng(c);
  const cut = c.truncateLastRecord ?? 0;
  return cut > 0 ? file.subarray(0, Math.max(0, file.length - cut)) : file;
}

export function writeCapture(path: string, c: SynthCapture): void {
  writeFileSync(path, buildCapture(c));
}

// ---------------------------------------------------------------------------------------------------------------
// TCP conversations

export interface FlowOptions {
  client?: Endpoint;
  server?: Endpoint;
  /** Initial sequence numbers (the SYN's seq). Random-looking defaults; pick values near 2^32 to test wrap. */
  clientIsn?: number;
  serverIsn?: number;
  /** Time of the first packet, seconds. */
  start?: number;
  mss?: number;
  /** Round-trip time, seconds: the gap before the first packet of every send. */
  rtt?: number;
  /** Spacing of back-to-back packets, seconds. */
  spacing?: number;
  window?: number;
}

/**
 * What happens to one data segment on the way, as seen by a capture at the receiver:
 * ok: arrives in order. late: arrives after the next segment (reordering).
 * lost: missing until a fast retransmission three packets later (receiver sends duplicate ACKs meanwhile).
 * unseen: the receiver got it but the capture did not (a real gap). dup: captured twice (spurious retransmission).
 */
export type SegmentFate = 'ok' | 'late' | 'lost' | 'unseen' | 'dup';

const other = (s: Side): Side => (s === 'client' ? 'server' : 'client');

/** The order in which segment copies reach the receiver, and whether the capture saw each copy. */
function arrivalOrder(count: number, fate: (segment: number) => SegmentFate): { seg: number; captured: boolean }[] {
  const order: { seg: number; captured: boolean }[] = [];
  const held: { seg: number; wait: number }[] = []; // copies that arrive after `wait` more arrivals
  for (let i = 0; i < count; i++) {
    const f = fate(i);
    if (f === 'late' || f === 'lost') {
      held.push({ seg: i, wait: f === 'late' ? 1 : 3 });
      continue;
    }
    order.push({ seg: i, captured: f !== 'unseen' });
    for (const h of held) h.wait--;
    for (const h of held.filter((x) => x.wait <= 0)) {
      order.push({ seg: h.seg, captured: true });
      held.splice(held.indexOf(h), 1);
    }
    if (f === 'dup') held.push({ seg: i, wait: 2 });
  }
  return order.concat(held.map((h) => ({ seg: h.seg, captured: true })));
}

/**
 * Produces the packets of one TCP connection step by step, with correct seq/ack numbers (mod 2^32) and a
 * microsecond clock. Each call returns the packets of that step in capture order.
 */
export class TcpFlow {
  readonly ends: Record<Side, Endpoint>;
  /** Next sequence number each side will send. */
  private readonly next: Record<Side, number>;
  private clockUs: number;
  private readonly mss: number;
  private readonly halfRttUs: number;
  private readonly spacingUs: number;
  private readonly window: number;

  constructor(o: FlowOptions = {}) {
    this.ends = {
      client: o.client ?? { ip: '10.0.0.1', port: 50000 },
      server: o.server ?? { ip: '10.0.0.2', port: 143 },
    };
    this.next = { client: (o.clientIsn ?? 0x1d2c3b4a) >>> 0, server: (o.serverIsn ?? 0x8f7e6d5c) >>> 0 };
    this.clockUs = Math.round((o.start ?? 1_700_000_000) * 1e6);
    this.mss = o.mss ?? 1448;
    this.halfRttUs = Math.round(((o.rtt ?? 0.002) * 1e6) / 2); // whole microseconds keep times exact
    this.spacingUs = Math.max(1, Math.round((o.spacing ?? 0.00002) * 1e6));
    this.window = o.window ?? 65535;
  }

  /** Current time in seconds (exact to the microsecond when printed). */
  get now(): number {
    return this.clockUs / 1e6;
  }

  wait(seconds: number): void {
    this.clockUs += Math.round(seconds * 1e6);
  }

  /** Next sequence number of a side (what the other side acknowledges). */
  nextSeq(side: Side): number {
    return this.next[side];
  }

  private packet(from: Side, flags: string, seq: number, payload?: Buffer): SynthPacket {
    this.clockUs += this.spacingUs;
    const s = this.ends[from];
    const d = this.ends[other(from)];
    return {
      t: this.clockUs / 1e6,
      src: s.ip,
      dst: d.ip,
      sport: s.port,
      dport: d.port,
      seq: seq >>> 0,
      ack: flags.includes('A') ? this.next[other(from)] : 0,
      flags,
      window: this.window,
      ...(payload ? { payload } : {}),
    };
  }

  private advance(side: Side, n: number): void {
    this.next[side] = (this.next[side] + n) >>> 0;
  }

  handshake(): SynthPacket[] {
    const syn = this.packet('client', 'S', this.next.client);
    this.advance('client', 1);
    this.clockUs += this.halfRttUs;
    const synAck = this.packet('server', 'SA', this.next.server);
    this.advance('server', 1);
    this.clockUs += this.halfRttUs;
    return [syn, synAck, this.packet('client', 'A', this.next.client)];
  }

  /**
   * `data` from one side, cut into MSS segments (PSH on the last), with the receiver's ACKs: every second
   * in-order segment, immediately on duplicate or out-of-order arrival and on filling a hole, and after the last.
   */
  send(from: Side, data: Buffer | string, fate: (segment: number) => SegmentFate = () => 'ok'): SynthPacket[] {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const base = this.next[from];
    const to = other(from);
    const out: SynthPacket[] = [];
    const received = new Set<number>();
    let edge = 0; // segments received contiguously from the start
    let highest = -1;
    let sinceAck = 0;

    const ackNow = (): void => {
      sinceAck = 0;
      const ack = this.packet(to, 'A', this.next[to]);
      ack.ack = (base + Math.min(edge * this.mss, bytes.length)) >>> 0;
      out.push(ack);
    };

    this.clockUs += this.halfRttUs;
    for (const { seg, captured } of arrivalOrder(Math.ceil(bytes.length / this.mss), fate)) {
      if (captured) {
        const payload = bytes.subarray(seg * this.mss, (seg + 1) * this.mss);
        const last = (seg + 1) * this.mss >= bytes.length;
        out.push(this.packet(from, last ? 'PA' : 'A', base + seg * this.mss, payload));
      }
      const duplicate = received.has(seg);
      const fillsHole = seg === edge && highest > seg;
      received.add(seg);
      highest = Math.max(highest, seg);
      while (received.has(edge)) edge++;
      if (duplicate || fillsHole || seg > edge) ackNow();
      else if (++sinceAck >= 2) ackNow();
    }
    if (sinceAck > 0) ackNow();
    this.advance(from, bytes.length);
    return out;
  }

  /** FIN exchange started by `by` (FIN/ACK, FIN/ACK, ACK), or a single RST/ACK from `by`. */
  close(how: 'fin' | 'rst', by: Side = 'client'): SynthPacket[] {
    this.clockUs += this.halfRttUs;
    if (how === 'rst') return [this.packet(by, 'RA', this.next[by])];
    const first = this.packet(by, 'FA', this.next[by]);
    this.advance(by, 1);
    this.clockUs += this.halfRttUs;
    const second = this.packet(other(by), 'FA', this.next[other(by)]);
    this.advance(other(by), 1);
    this.clockUs += this.halfRttUs;
    return [first, second, this.packet(by, 'A', this.next[by])];
  }
}

export interface Exchange {
  from: Side;
  data: Buffer | string;
  /** Seconds of silence before it (think time). */
  delay?: number;
}

/**
 * Capture-level damage, by data-segment index: the 0-based position among packets that carry payload, in the
 * order tcpConversation generated them (both directions counted together, before any damage).
 */
export interface ConversationKnobs {
  /** Remove these segments from the capture. */
  drop?: number[];
  /** Exchange the positions of two segments (timestamps stay with the positions). */
  swap?: [number, number][];
  /** Insert a copy `after` packets later (default 1), optionally with different bytes at the same seq. */
  retransmit?: { seg: number; after?: number; payload?: Buffer | string }[];
  /** Start the segment `back` bytes earlier, repeating the stream's bytes (or `fill` bytes) before it. */
  overlap?: { seg: number; back: number; fill?: number }[];
}

export interface ConversationOptions extends FlowOptions, ConversationKnobs {
  /** Include the SYN handshake (default true); false models a capture that starts mid-stream. */
  handshake?: boolean;
  exchanges: Exchange[];
  /** How the connection ends (default 'fin'), and who ends it (default 'client'). */
  close?: 'fin' | 'rst' | 'none';
  closer?: Side;
  /** Per-segment network fate (see SegmentFate); `segment` counts within one exchange. */
  fate?: (exchange: number, segment: number) => SegmentFate;
}

/** The packets of one TCP connection carrying `exchanges`, then damaged as the knobs ask. */
export function tcpConversation(o: ConversationOptions): SynthPacket[] {
  const flow = new TcpFlow(o);
  const packets = o.handshake === false ? [] : flow.handshake();
  const streams: Record<Side, Buffer[]> = { client: [], server: [] };
  const base = { client: flow.nextSeq('client'), server: flow.nextSeq('server') };
  o.exchanges.forEach((x, n) => {
    if (x.delay) flow.wait(x.delay);
    const data = typeof x.data === 'string' ? Buffer.from(x.data, 'latin1') : x.data;
    streams[x.from].push(data);
    packets.push(...flow.send(x.from, data, o.fate ? (i) => o.fate!(n, i) : undefined));
  });
  if (o.close !== 'none') packets.push(...flow.close(o.close ?? 'fin', o.closer ?? 'client'));
  const whole = { client: Buffer.concat(streams.client), server: Buffer.concat(streams.server) };
  const { client } = flow.ends;
  const sideOf = (p: SynthPacket): Side => (p.sport === client.port && p.src === client.ip ? 'client' : 'server');
  return damage(packets, o, (p, back) => {
    const side = sideOf(p);
    const offset = (p.seq - base[side]) >>> 0;
    return whole[side].subarray(Math.max(0, offset - back), offset);
  });
}

/** Applies ConversationKnobs; `before(p, n)` returns the n stream bytes preceding segment p. */
function damage(
  packets: SynthPacket[],
  k: ConversationKnobs,
  before: (p: SynthPacket, n: number) => Buffer,
): SynthPacket[] {
  const segs = packets.filter((p) => payloadOf(p).length > 0);
  const seg = (i: number): SynthPacket => {
    const s = segs[i];
    if (!s) throw new Error(`no data segment ${i} (there are ${segs.length})`);
    return s;
  };
  let list = [...packets];
  for (const { seg: i, back, fill } of k.overlap ?? []) {
    const s = seg(i);
    const prefix = before(s, back);
    const bytes = fill === undefined ? prefix : Buffer.alloc(prefix.length, fill);
    s.payload = Buffer.concat([bytes, payloadOf(s)]);
    s.seq = (s.seq - prefix.length) >>> 0;
  }
  for (const { seg: i, after = 1, payload } of k.retransmit ?? []) {
    const s = seg(i);
    const at = Math.min(list.indexOf(s) + after, list.length - 1);
    const copy: SynthPacket = { ...s, t: list[at]!.t, payload: payload ?? s.payload };
    list.splice(at + 1, 0, copy);
  }
  for (const [a, b] of k.swap ?? []) {
    const ia = list.indexOf(seg(a));
    const ib = list.indexOf(seg(b));
    const [ta, tb] = [list[ia]!.t, list[ib]!.t];
    [list[ia], list[ib]] = [{ ...list[ib]!, t: ta }, { ...list[ia]!, t: tb }];
    segs[a] = list[ib]!; // keep indexes pointing at the packets now holding each segment
    segs[b] = list[ia]!;
  }
  const dropped = new Set((k.drop ?? []).map(seg));
  list = list.filter((p) => !dropped.has(p));
  return list;
}

/**
 * Two NOOP sessions, the second starting just after the first; the first one's last packet is stamped a thousand seconds
 * before its first frame (a clock step back, or a merged capture): the capture's earliest time is not its first frame's.
 */
export function writeClockStepBackCapture(path: string): void {
  const session = (port: number, start: number) => tcpConversation({
    client: { ip: '10.0.0.1', port }, start,
    exchanges: [{ from: 'server', data: '* OK ready\r\n' }, { from: 'client', data: 'a1 NOOP\r\n' }, { from: 'server', data: 'a1 OK done\r\n' }],
  });
  const first = session(40001, 1000);
  first[first.length - 1]!.t = 0;
  writeCapture(path, { format: 'pcap', packets: [...first, ...session(40002, 1000.001)] });
}
