import { writeSync } from 'node:fs';
import type { Frame } from '../capture/types.js';

export type OutputFormat = 'pcap' | 'pcapng';

/** Frames are gathered into blocks of about this size before each write. */
const FLUSH_AT = 1024 * 1024;
const PCAP_SNAPLEN = 262144;

/**
 * Writes frames to a capture file descriptor, byte for byte: classic pcap (microsecond magic, or the
 * nanosecond one when the first frame has nanosecond resolution; one link type) or pcapng (one section,
 * one interface block per source interface — its link type and time resolution — and enhanced packet
 * blocks with the original and captured lengths).
 */
export class CaptureWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private started = false;
  private nano = false;
  private pcapLinkType: number | null = null;
  /** pcapng: interface blocks written, by source interface, link type and resolution. */
  private readonly interfaces = new Map<string, { id: number; digits: number }>();
  frames = 0;

  constructor(private readonly fd: number, private readonly format: OutputFormat) {}

  write(frame: Frame, data: Buffer = frame.data): void {
    if (this.format === 'pcap') this.pcapRecord(frame, data);
    else this.pcapngRecord(frame, data);
    this.frames++;
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

  /** Writes what is pending; a capture with no frame still gets its file header. */
  end(): void {
    if (!this.started) this.header(null);
    this.flush();
  }

  private push(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const all = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    for (let off = 0; off < all.length;) off += writeSync(this.fd, all, off, all.length - off);
  }

  private header(first: Frame | null): void {
    this.started = true;
    if (this.format === 'pcapng') {
      this.push(sectionHeader());
      return;
    }
    this.nano = (first?.tsDigits ?? 6) > 6;
    this.pcapLinkType = first?.linkType ?? 1;
    const h = Buffer.alloc(24);
    h.writeUInt32LE(this.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(PCAP_SNAPLEN, 16);
    h.writeUInt32LE(this.pcapLinkType, 20);
    this.push(h);
  }

  private pcapRecord(frame: Frame, data: Buffer): void {
    if (!this.started) this.header(frame);
    if (frame.linkType !== this.pcapLinkType) {
      throw new WriteError(`frame ${frame.number} has link type ${frame.linkType}, the file ${this.pcapLinkType}: a pcap file holds one link type; write pcapng (-F pcapng)`);
    }
    const r = Buffer.alloc(16);
    r.writeUInt32LE(frame.tsSec >>> 0, 0);
    r.writeUInt32LE(this.nano ? frame.tsNsec : Math.floor(frame.tsNsec / 1000), 4);
    r.writeUInt32LE(data.length, 8);
    r.writeUInt32LE(Math.max(frame.origLen, data.length), 12);
    this.push(r);
    this.push(Buffer.from(data));
  }

  private pcapngRecord(frame: Frame, data: Buffer): void {
    if (!this.started) this.header(frame);
    const digits = Math.min(Math.max(frame.tsDigits, 0), 9);
    const key = `${frame.iface}/${frame.linkType}/${digits}`;
    let iface = this.interfaces.get(key);
    if (!iface) {
      iface = { id: this.interfaces.size, digits };
      this.interfaces.set(key, iface);
      this.push(interfaceBlock(frame.linkType, digits));
    }
    const ts = BigInt(frame.tsSec) * 10n ** BigInt(digits) + BigInt(Math.floor(frame.tsNsec / 10 ** (9 - digits)));
    const padded = (data.length + 3) & ~3;
    const total = 32 + padded;
    const b = Buffer.alloc(total);
    b.writeUInt32LE(6, 0); // Enhanced Packet Block
    b.writeUInt32LE(total, 4);
    b.writeUInt32LE(iface.id, 8);
    b.writeUInt32LE(Number(ts >> 32n), 12);
    b.writeUInt32LE(Number(ts & 0xffffffffn), 16);
    b.writeUInt32LE(data.length, 20);
    b.writeUInt32LE(Math.max(frame.origLen, data.length), 24);
    data.copy(b, 28);
    b.writeUInt32LE(total, total - 4);
    this.push(b);
  }
}

/** The frames cannot go into the chosen format (several link types in a pcap). */
export class WriteError extends Error {}

function sectionHeader(): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt32LE(0x0a0d0d0a, 0);
  b.writeUInt32LE(28, 4);
  b.writeUInt32LE(0x1a2b3c4d, 8);
  b.writeUInt16LE(1, 12);
  b.writeUInt16LE(0, 14);
  b.writeBigInt64LE(-1n, 16); // section length not given
  b.writeUInt32LE(28, 24);
  return b;
}

function interfaceBlock(linkType: number, digits: number): Buffer {
  // if_tsresol (code 9, one byte: a negative power of ten), then opt_endofopt.
  const b = Buffer.alloc(32);
  b.writeUInt32LE(1, 0);
  b.writeUInt32LE(32, 4);
  b.writeUInt16LE(linkType, 8);
  b.writeUInt32LE(0, 12); // snaplen: not limited
  b.writeUInt16LE(9, 16);
  b.writeUInt16LE(1, 18);
  b.writeUInt8(digits, 20);
  b.writeUInt32LE(0, 24); // opt_endofopt
  b.writeUInt32LE(32, 28);
  return b;
}
