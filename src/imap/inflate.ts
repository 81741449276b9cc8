import { Inflate, Z_SYNC_FLUSH } from 'pako';

/**
 * Most bytes one compressed chunk (a TCP segment or a TLS record) may inflate to. Mail text compresses
 * 3 to 10 times; deflate's ceiling is about 1032 times, so only a deliberate "bomb" gets near this, and
 * it would otherwise sit in memory whole before the framer sees it.
 */
export const MAX_INFLATE_PER_CHUNK = 16 * 1024 * 1024;

/**
 * Raw-deflate decompression of one direction after COMPRESS=DEFLATE (RFC 4978), synchronous and
 * incremental. Node's zlib cannot do this: its synchronous calls end the stream after each call, and
 * its streaming API is asynchronous, while our pipeline hands bytes on synchronously. pako is a
 * faithful port of zlib's inflate and is fed with Z_SYNC_FLUSH so every input chunk yields its output.
 */
export class RawInflater {
  private readonly inflate = new Inflate({ raw: true, chunkSize: 64 * 1024 });
  private out: Buffer[] = [];
  private produced = 0;
  failed: string | null = null;

  constructor(private readonly maxPerChunk = MAX_INFLATE_PER_CHUNK) {
    this.inflate.onData = (chunk: Uint8Array) => {
      this.produced += chunk.byteLength;
      // Past the cap the output is dropped as it comes, so a bomb never sits in memory.
      if (this.produced <= this.maxPerChunk) this.out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    };
  }

  /** Decompressed bytes for this compressed chunk (possibly none), or null once the stream is corrupt or over the cap. */
  push(chunk: Buffer): Buffer | null {
    if (this.failed) return null;
    this.out = [];
    this.produced = 0;
    this.inflate.push(chunk, Z_SYNC_FLUSH);
    if (this.inflate.err) {
      this.failed = this.inflate.msg || `zlib error ${this.inflate.err}`;
      return null;
    }
    if (this.produced > this.maxPerChunk) {
      this.out = [];
      this.failed = `${chunk.length} compressed bytes inflate to more than ${this.maxPerChunk} bytes`;
      return null;
    }
    return this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
  }
}
