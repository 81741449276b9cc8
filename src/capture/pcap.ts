import { ChunkedParser } from './chunked.js';
import type { CaptureInfo, FrameSink, WarningSink } from './types.js';
import { FrameBuilder } from './frame-builder.js';
import { u32be, u32le } from '../util/bytes.js';

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Wireshark refuses records larger than this; so do we, and treat them as corruption. */
export const MAX_RECORD = 262144;
/** How far past a corrupt record header we look for the next plausible one before giving up. */
const RESYNC_WINDOW = 4 * 1024 * 1024;

/** The four classic pcap magics: microsecond and nanosecond, in either byte order. */
export function pcapMagic(head: Buffer): { littleEndian: boolean; nano: boolean } | null {
  if (head.length < 4) return null;
  switch (head.readUInt32BE(0)) {
    case 0xa1b2c3d4: return { littleEndian: false, nano: false };
    case 0xd4c3b2a1: return { littleEndian: true, nano: false };
    case 0xa1b23c4d: return { littleEndian: false, nano: true };
    case 0x4d3cb2a1: return { littleEndian: true, nano: true };
    default: return null;
  }
}

/**
 * Classic libpcap format (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap). A record with an
 * impossible length is reported and skipped by scanning forward for the next plausible record header
 * (two consecutive headers that agree), so one corrupt byte does not lose the rest of the file.
 */
export class PcapParser extends ChunkedParser {
  private headerRead = false;
  private le = true;
  private nano = false;
  private linkType = 1;
  private snaplen = MAX_RECORD;
  private lastSec = -1;
  private resyncing = false;
  private resyncFrom = 0;
  private atEnd = false;

  constructor(
    private readonly frames: FrameBuilder,
    private readonly sink: FrameSink,
    private readonly warn: WarningSink,
    private readonly info: CaptureInfo,
  ) {
    super();
  }

  protected consume(): void {
    if (!this.headerRead && !this.readGlobalHeader()) return;
    for (;;) {
      if (this.resyncing && !this.resync()) return;
      if (this.available < RECORD_HEADER) return;
      const p = this.pos;
      const b = this.buf;
      const sec = this.u32(b, p);
      const frac = this.u32(b, p + 4);
      const capLen = this.u32(b, p + 8);
      const origLen = this.u32(b, p + 12);
      if (!this.plausible(frac, capLen, origLen)) {
        this.startResync(capLen);
        continue;
      }
      if (this.available < RECORD_HEADER + capLen) return;
      const start = p + RECORD_HEADER;
      this.pos = start + capLen;
      this.lastSec = sec;
      this.sink(this.frames.next(sec, this.nano ? frac : frac * 1000, this.nano ? 9 : 6, this.linkType,
        b.subarray(start, start + capLen), origLen));
    }
  }

  protected finish(leftover: number): void {
    if (this.resyncing) {
      this.atEnd = true;
      if (this.resync()) this.consume();
      leftover = this.available;
      if (this.resyncing) {
        if (leftover > 0) this.warn({ frame: this.info.frames + 1, message: `no valid pcap record found after the corruption; the last ${leftover} bytes are skipped` });
        return;
      }
    }
    if (!this.headerRead) {
      this.warn({ frame: null, message: `file ends inside the pcap file header (${leftover} bytes)` });
    } else if (leftover > 0) {
      this.warn({
        frame: this.info.frames + 1,
        message: `file is truncated: the last ${leftover} bytes do not hold a whole record; frames up to ${this.info.frames} were read`,
      });
    }
  }

  private u32(b: Buffer, at: number): number {
    return this.le ? u32le(b, at) : u32be(b, at);
  }

  private readGlobalHeader(): boolean {
    if (this.available < GLOBAL_HEADER) return false;
    const head = this.buf.subarray(this.pos, this.pos + GLOBAL_HEADER);
    const magic = pcapMagic(head)!;
    this.le = magic.littleEndian;
    this.nano = magic.nano;
    const snap = this.u32(head, 16);
    this.snaplen = snap > 0 && snap < MAX_RECORD ? snap : MAX_RECORD;
    // The upper bits of the link-type word carry FCS information; the type is the low 16 bits.
    this.linkType = this.u32(head, 20) & 0xffff;
    this.pos += GLOBAL_HEADER;
    this.headerRead = true;
    return true;
  }

  private plausible(frac: number, capLen: number, origLen: number): boolean {
    if (capLen > MAX_RECORD || capLen > origLen && origLen !== 0) return false;
    return frac < (this.nano ? 1e9 : 1e6);
  }

  private startResync(badLen: number): void {
    this.warn({
      frame: this.info.frames + 1,
      message: `corrupt pcap record header at file offset ${this.base + this.pos} (captured length ${badLen}); ` +
        `frames up to ${this.info.frames} were read; looking for the next valid record`,
    });
    this.resyncing = true;
    this.resyncFrom = this.base + this.pos;
    this.pos += 1;
  }

  /** Scan for a header whose record is followed by another plausible header (or by the end of data). */
  private resync(): boolean {
    const b = this.buf;
    while (this.available >= RECORD_HEADER) {
      const p = this.pos;
      if (this.headerAt(b, p)) {
        const next = p + RECORD_HEADER + this.u32(b, p + 8);
        // Confirmed by a second plausible header, or by ending exactly at the end of the file.
        const confirmed = next + RECORD_HEADER <= b.length ? this.headerAt(b, next) : this.atEnd && next === b.length;
        if (!confirmed && next + RECORD_HEADER > b.length && !this.atEnd) return false; // need more data
        if (confirmed) {
          this.resyncing = false;
          this.warn({
            frame: this.info.frames + 1,
            message: `resynchronised after skipping ${this.base + p - this.resyncFrom} corrupt bytes; ` +
              `frame numbers from here on differ from tools that stop at the corruption`,
          });
          return true;
        }
      }
      this.pos += 1;
      if (this.base + this.pos - this.resyncFrom > RESYNC_WINDOW) {
        this.warn({ frame: this.info.frames + 1, message: 'no valid pcap record found after the corruption; the rest of the file is skipped' });
        this.pos = b.length;
        return false;
      }
    }
    return false;
  }

  private headerAt(b: Buffer, p: number): boolean {
    const sec = this.u32(b, p);
    const capLen = this.u32(b, p + 8);
    const origLen = this.u32(b, p + 12);
    if (!this.plausible(this.u32(b, p + 4), capLen, origLen) || capLen > this.snaplen || origLen === 0) return false;
    // While resyncing, a real record also lies within a day of the last good timestamp.
    return this.lastSec < 0 || Math.abs(sec - this.lastSec) < 86400;
  }
}
