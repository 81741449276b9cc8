import { ChunkedParser } from './chunked.js';
import type { CaptureInfo, EmbeddedSecret, FrameSink, WarningSink } from './types.js';
import { FrameBuilder } from './frame-builder.js';
import { MAX_RECORD } from './pcap.js';
import { u16be, u16le, u32be, u32le } from '../util/bytes.js';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
/** Interfaces described in one section: real captures have a handful; each costs memory, and a file could hold millions. */
export const MAX_INTERFACES = 65_536;
const PB_LEGACY = 0x00000002;
const SPB = 0x00000003;
const EPB = 0x00000006;
const DSB = 0x0000000a;
/** 9999-12-31T23:59:59Z: the last second an ISO 8601 date of four digits can name. */
const LAST_SECOND = 253_402_300_799;
/** Bytes of fixed fields in a block's body, before its data and options: a shorter block is corrupt. */
const FIXED_FIELDS = new Map([[IDB, 8], [PB_LEGACY, 20], [SPB, 4], [EPB, 20]]);
/** Custom blocks (copiable and not): Wireshark gives each a frame number, so we count them too. */
const CUSTOM = new Set([0x00000bad, 0x40000bad]);
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Blocks larger than this are treated as corruption (Wireshark uses 16 MiB too). */
const MAX_BLOCK = 16 * 1024 * 1024;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface Interface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  digits: number;
  offsetSec: number;
}

export function isPcapng(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32BE(0) === SHB;
}

/**
 * pcapng (draft-ietf-opsawg-pcapng): SHB in either byte order and several sections per file, IDBs with
 * per-interface link type, if_tsresol and if_tsoffset, EPB, SPB and the obsolete PB; DSB secrets are
 * kept for TLS decryption; every other block is skipped by its length.
 */
export class PcapngParser extends ChunkedParser {
  private le = true;
  private interfaces: Interface[] = [];
  private sections = 0;
  /** The section has more interface blocks than MAX_INTERFACES (warned once per section). */
  private interfacesCapped = false;
  /** Set when corruption makes the rest of the file unreadable. */
  private stopped = false;

  constructor(
    private readonly frames: FrameBuilder,
    private readonly sink: FrameSink,
    private readonly warn: WarningSink,
    private readonly info: CaptureInfo,
    private readonly onSecret: (s: EmbeddedSecret) => void,
  ) {
    super();
  }

  protected consume(): void {
    while (this.available >= 12) {
      const b = this.buf;
      const p = this.pos;
      if (u32be(b, p) === SHB && !this.readByteOrder(p)) return;
      const type = this.u32(b, p);
      const len = this.u32(b, p + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
        this.warn({
          frame: this.info.frames + 1,
          message: `corrupt pcapng block (type 0x${type.toString(16)}, length ${len}) at file offset ${this.base + p}; ` +
            `frames up to ${this.info.frames} were read, the rest of the file is skipped`,
        });
        this.pos = b.length;
        this.stopped = true;
        return;
      }
      if (this.available < len) return;
      this.pos = p + len;
      const body = b.subarray(p + 8, p + len - 4);
      if (body.length < (FIXED_FIELDS.get(type) ?? 0)) {
        this.warn({ frame: this.info.frames + 1, message: `corrupt pcapng block (type 0x${type.toString(16)}, length ${len}) at file offset ${this.base + p}: too short for its fixed fields; skipped` });
        continue;
      }
      this.block(type, body);
    }
  }

  protected finish(leftover: number): void {
    if (this.sections === 0) {
      this.warn({ frame: null, message: 'file ends before the first pcapng section header' });
    } else if (leftover > 0 && !this.stopped) {
      this.warn({
        frame: this.info.frames + 1,
        message: `file is truncated: the last ${leftover} bytes do not hold a whole block; frames up to ${this.info.frames} were read`,
      });
    }
  }

  private u32(b: Buffer, at: number): number {
    return this.le ? u32le(b, at) : u32be(b, at);
  }

  private u16(b: Buffer, at: number): number {
    return this.le ? u16le(b, at) : u16be(b, at);
  }

  /** A section header fixes the byte order of everything up to the next one. */
  private readByteOrder(p: number): boolean {
    if (this.available < 12) return false;
    const magic = u32le(this.buf, p + 8);
    if (magic === BYTE_ORDER_MAGIC) this.le = true;
    else if (magic === 0x4d3c2b1a) this.le = false;
    else {
      this.warn({ frame: this.info.frames + 1, message: `pcapng section header with unknown byte-order magic at file offset ${this.base + p}; the rest of the file is skipped` });
      this.pos = this.buf.length;
      this.stopped = true;
      return false;
    }
    return true;
  }

  private block(type: number, body: Buffer): void {
    switch (type) {
      case SHB:
        this.sections++;
        this.interfaces = [];
        this.interfacesCapped = false;
        return;
      case IDB:
        if (this.interfaces.length < MAX_INTERFACES) this.interfaces.push(this.readInterface(body));
        else if (!this.interfacesCapped) {
          this.interfacesCapped = true;
          this.warn({ frame: this.info.frames + 1, message: `more than ${MAX_INTERFACES} interface blocks in one pcapng section (the cap): the later ones are ignored and their packets skipped` });
        }
        return;
      case EPB:
        return this.packet(this.u32(body, 0), this.u32(body, 4), this.u32(body, 8), this.u32(body, 12), this.u32(body, 16), body, 20);
      case PB_LEGACY:
        return this.packet(this.u16(body, 0), this.u32(body, 4), this.u32(body, 8), this.u32(body, 12), this.u32(body, 16), body, 20);
      case SPB:
        return this.simplePacket(body);
      case DSB:
        if (body.length >= 8) {
          const secretLen = this.u32(body, 4);
          this.onSecret({ type: this.u32(body, 0), data: Buffer.from(body.subarray(8, 8 + secretLen)) });
        }
        return;
      default:
        if (CUSTOM.has(type)) this.frames.skip();
        return; // name resolution, statistics, custom blocks: nothing for us
    }
  }

  private readInterface(body: Buffer): Interface {
    const iface: Interface = { linkType: this.u16(body, 0), snaplen: this.u32(body, 4), unitsPerSec: 1e6, digits: 6, offsetSec: 0 };
    for (let o = 8; o + 4 <= body.length;) {
      const code = this.u16(body, o);
      const len = this.u16(body, o + 2);
      if (code === 0) break;
      const value = body.subarray(o + 4, o + 4 + len);
      if (code === OPT_IF_TSRESOL && value.length >= 1) {
        const r = value[0]!;
        const exp = r & 0x7f;
        // High bit set: negative power of two; clear: negative power of ten.
        iface.unitsPerSec = r & 0x80 ? 2 ** exp : 10 ** exp;
        iface.digits = r & 0x80 ? Math.ceil(exp * Math.log10(2)) : exp;
      } else if (code === OPT_IF_TSOFFSET && value.length >= 8) {
        iface.offsetSec = Number(this.le ? value.readBigInt64LE(0) : value.readBigInt64BE(0));
      }
      o += 4 + ((len + 3) & ~3);
    }
    return iface;
  }

  private packet(ifId: number, tsHigh: number, tsLow: number, capLen: number, origLen: number, body: Buffer, dataAt: number): void {
    const iface = this.interfaces[ifId];
    const number = this.info.frames + 1;
    if (!iface) {
      // Past the cap the packets of ignored interfaces were announced by its warning.
      if (!(this.interfacesCapped && ifId >= MAX_INTERFACES)) this.warn({ frame: number, message: `packet refers to interface ${ifId}, which no interface block described; skipped` });
      return;
    }
    if (capLen > body.length - dataAt || capLen > MAX_RECORD * 256) {
      this.warn({ frame: number, message: `packet's captured length ${capLen} exceeds its block; skipped` });
      return;
    }
    const [units, fraction] = splitTimestamp(tsHigh, tsLow, iface.unitsPerSec);
    let sec = units + iface.offsetSec;
    let nsec = fraction;
    if (!(sec >= 0 && sec <= LAST_SECOND)) {
      // 64-bit units, a resolution and an offset of the file's choosing can name any time; every view prints ISO 8601.
      this.warn({ frame: number, message: `packet's timestamp (${sec} s since 1970) is outside the years 1970 to 9999; taken as ${sec > 0 ? '9999-12-31T23:59:59Z' : '1970-01-01T00:00:00Z'}` });
      sec = sec > 0 ? LAST_SECOND : 0;
      nsec = 0;
    }
    this.sink(this.frames.next(sec, nsec, iface.digits, iface.linkType, body.subarray(dataAt, dataAt + capLen), origLen, ifId));
  }

  /** SPB: interface 0, no timestamp (Wireshark shows 0), captured length bounded by snaplen and block. */
  private simplePacket(body: Buffer): void {
    const iface = this.interfaces[0];
    if (!iface) {
      this.warn({ frame: this.info.frames + 1, message: 'simple packet block before any interface block; skipped' });
      return;
    }
    const origLen = this.u32(body, 0);
    let capLen = Math.min(origLen, body.length - 4);
    if (iface.snaplen > 0) capLen = Math.min(capLen, iface.snaplen);
    this.sink(this.frames.next(0, 0, iface.digits, iface.linkType, body.subarray(4, 4 + capLen), origLen));
  }
}

/**
 * Split a 64-bit count of 1/unitsPerSec units into seconds and nanoseconds without BigInt:
 * long division of (high·2^32 + low) by units in 16-bit steps keeps every intermediate exact.
 */
export function splitTimestamp(high: number, low: number, unitsPerSec: number): [number, number] {
  if (unitsPerSec > 2 ** 32) {
    const ts = (BigInt(high) << 32n) | BigInt(low);
    const u = BigInt(unitsPerSec);
    return [Number(ts / u), Number(((ts % u) * 1_000_000_000n) / u)];
  }
  const u = unitsPerSec;
  const q1 = Math.floor(high / u);
  const x2 = (high % u) * 65536 + (low >>> 16);
  const q2 = Math.floor(x2 / u);
  const x3 = (x2 % u) * 65536 + (low & 0xffff);
  const q3 = Math.floor(x3 / u);
  const rem = x3 % u;
  const sec = (q1 * 65536 + q2) * 65536 + q3;
  const nsec = u === 1e9 ? rem : u === 1e6 ? rem * 1000 : Math.round((rem * 1e9) / u);
  return [sec, nsec];
}
