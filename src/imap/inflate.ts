import { ZStream, Z_BUF_ERROR, Z_OK, Z_STREAM_END, Z_SYNC_FLUSH, zlibInflate, zlibInflateInit2, zlibInflateSetDictionary } from 'pako';
import { latin1 } from '../util/latin1.js';

/**
 * Most bytes one compressed chunk (a TCP segment or a TLS record) may inflate to. Mail text compresses
 * 3 to 10 times; deflate's ceiling is about 1032 times, so only a deliberate "bomb" gets near this, and
 * it would otherwise sit in memory whole before the framer sees it.
 */
export const MAX_INFLATE_PER_CHUNK = 16 * 1024 * 1024;

/** Raw deflate (no zlib header), with the largest window, as RFC 4978 uses it. */
const RAW_WINDOW_BITS = -15;
const OUTPUT_CHUNK = 64 * 1024;

/** zlib's `data_type` after inflate() (zlib.h): the unused bits of the last byte read, and two flags. */
const UNUSED_BITS = 63;
const IN_LAST_BLOCK = 64;
const AFTER_END_OF_BLOCK = 128;

const NOTHING = new Uint8Array(0);

/**
 * A direction is parked only while what it produced fits this: a push client's login, SELECT and IDLE do. Past it, a
 * stream that carries mail keeps its inflater: parked after every message, it copied out and primed again up to 32 KiB
 * of window each time (1.14x the time on a replayed mbsync session), and its window is most of what parking frees.
 */
export const MAX_PARKED_WINDOW = 4096;

/**
 * Raw-deflate decompression of one direction after COMPRESS=DEFLATE (RFC 4978), synchronous and
 * incremental. Node's zlib cannot do this: its synchronous calls end the stream after each call, and
 * its streaming API is asynchronous, while our pipeline hands bytes on synchronously. pako is a
 * faithful port of zlib, whose inflate() it is fed to with Z_SYNC_FLUSH so every input chunk yields its output.
 *
 * Between two deflate blocks, on a byte boundary (where a peer's sync flush after each message leaves the stream), an
 * inflater knows nothing but the last 32 KiB it produced, which later blocks may copy from. There, while that is little
 * (MAX_PARKED_WINDOW), it is parked: it keeps those bytes, and a new inflater takes them as its dictionary when more
 * comes. A running inflater holds its 32 KiB window and its tables, and pako's Inflate kept its 64 KiB output chunk:
 * 212 KiB for the two directions of every idle connection (a mail client's push connection), where a parked one holds
 * what it produced.
 */
export class RawInflater {
  /** The running inflater; null while parked. */
  private strm: ZStream | null = null;
  /**
   * While parked: the last bytes produced (oldest first), up to the window's size, as latin1 text (a buffer of its own
   * took a Buffer and an ArrayBuffer object more, 0.2 KiB, where an idle direction's window is a few lines).
   */
  private window = '';
  /** The stream's last block ended: what follows is not inflated. */
  private ended = false;
  failed: string | null = null;

  constructor(private readonly maxPerChunk = MAX_INFLATE_PER_CHUNK, private readonly maxParkedWindow = MAX_PARKED_WINDOW) {}

  /** Between blocks, holding its window's bytes only (for tests). */
  get parked(): boolean {
    return this.strm === null;
  }

  /** Decompressed bytes for this compressed chunk (possibly none), or null once the stream is corrupt or over the cap. */
  push(chunk: Buffer): Buffer | null {
    if (this.failed) return null;
    if (this.ended) return Buffer.alloc(0);
    const strm = this.strm ?? this.resume();
    if (strm === null) return null;
    strm.input = chunk;
    strm.next_in = 0;
    strm.avail_in = chunk.length;
    const out: Buffer[] = [];
    let produced = 0;
    for (;;) {
      // Not zeroed: only what inflate() wrote (next_out bytes) is read.
      const output = Buffer.allocUnsafeSlow(OUTPUT_CHUNK);
      strm.output = output;
      strm.next_out = 0;
      strm.avail_out = OUTPUT_CHUNK;
      const status = zlibInflate(strm, Z_SYNC_FLUSH);
      if (status !== Z_OK && status !== Z_BUF_ERROR && status !== Z_STREAM_END) return this.fail(strm.msg || `zlib error ${status}`);
      produced += strm.next_out;
      // Past the cap the output is dropped as it comes, so a bomb never sits in memory.
      if (produced <= this.maxPerChunk && strm.next_out > 0) out.push(Buffer.from(output.buffer, 0, strm.next_out));
      if (status === Z_STREAM_END) {
        this.ended = true;
        break;
      }
      if (strm.avail_out > 0 || strm.avail_in === 0) break;
    }
    if (produced > this.maxPerChunk) return this.fail(`${chunk.length} compressed bytes inflate to more than ${this.maxPerChunk} bytes`);
    // Neither the input nor the output chunk is kept by a direction waiting for more.
    strm.input = NOTHING;
    strm.output = NOTHING as Uint8Array<ArrayBuffer>;
    if (!this.ended) this.parkBetweenBlocks(strm);
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** An inflater for what comes next, primed with the parked window. */
  private resume(): ZStream | null {
    const strm = new ZStream();
    let status = zlibInflateInit2(strm, RAW_WINDOW_BITS);
    if (status === Z_OK && this.window.length > 0) status = zlibInflateSetDictionary(strm, Buffer.from(this.window, 'latin1'));
    if (status !== Z_OK) {
      this.fail(`zlib error ${status}`);
      return null;
    }
    this.window = '';
    return (this.strm = strm);
  }

  private parkBetweenBlocks(strm: ZStream): void {
    const type = strm.data_type;
    if ((type & AFTER_END_OF_BLOCK) === 0 || (type & UNUSED_BITS) !== 0 || (type & IN_LAST_BLOCK) !== 0) return;
    const window = windowBytes(strm.state, this.maxParkedWindow);
    if (window === null) return;
    this.window = window;
    this.strm = null;
  }

  private fail(why: string): null {
    this.failed = why;
    this.strm = null;
    this.window = '';
    return null;
  }
}

/**
 * The bytes of zlib's sliding window, oldest first, as latin1 text; null if there are more than `most` of them, or if
 * the state does not look as zlib's does (then the inflater keeps running).
 */
function windowBytes(state: unknown, most: number): string | null {
  const s = state as { window?: unknown; whave?: unknown; wnext?: unknown; wsize?: unknown } | null;
  if (!s || typeof s.whave !== 'number' || typeof s.wnext !== 'number' || typeof s.wsize !== 'number') return null;
  if (s.whave === 0) return '';
  if (s.whave > most) return null;
  if (!(s.window instanceof Uint8Array) || s.whave > s.wsize || s.wsize > s.window.length || s.wnext > s.wsize) return null;
  const w = Buffer.from(s.window.buffer, s.window.byteOffset, s.window.byteLength);
  // Filled from its start until full (then wnext = whave), and written around from wnext after that.
  if (s.whave < s.wsize) return latin1(w, 0, s.whave);
  return latin1(w, s.wnext, s.wsize) + latin1(w, 0, s.wnext);
}
