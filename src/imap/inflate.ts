import { Inflate, Z_SYNC_FLUSH } from 'pako';

/**
 * Raw-deflate decompression of one direction after COMPRESS=DEFLATE (RFC 4978), synchronous and
 * incremental. Node's zlib cannot do this: its synchronous calls end the stream after each call, and
 * its streaming API is asynchronous, while our pipeline hands bytes on synchronously. pako is a
 * faithful port of zlib's inflate and is fed with Z_SYNC_FLUSH so every input chunk yields its output.
 */
export class RawInflater {
  private readonly inflate = new Inflate({ raw: true, chunkSize: 64 * 1024 });
  private out: Buffer[] = [];
  failed: string | null = null;

  constructor() {
    this.inflate.onData = (chunk: Uint8Array) => { this.out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)); };
  }

  /** Decompressed bytes for this compressed chunk (possibly none), or null once the stream is corrupt. */
  push(chunk: Buffer): Buffer | null {
    if (this.failed) return null;
    this.out = [];
    this.inflate.push(chunk, Z_SYNC_FLUSH);
    if (this.inflate.err) {
      this.failed = this.inflate.msg || `zlib error ${this.inflate.err}`;
      return null;
    }
    return this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
  }
}
