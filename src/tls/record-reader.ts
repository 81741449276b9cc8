/**
 * Cuts one direction of a TLS connection into records, whatever the chunking of the input: a record may
 * span many pushes and a push may hold many records. Input bytes are copied, as callers reuse them.
 */

export interface TlsRecord {
  type: number;
  version: number;
  /** The 5-byte header: TLS 1.3 authenticates it as the AEAD's additional data. */
  header: Buffer;
  /** The fragment (ciphertext once protection is on); owned by the record. */
  body: Buffer;
  /** The frame whose bytes completed the record. */
  frame: number;
}

export const RECORD_HEADER_LENGTH = 5;
/** RFC 5246 §6.2.3: a protected fragment is at most 2^14 + 2048 bytes. */
export const MAX_FRAGMENT_LENGTH = 16384 + 2048;

const CONTENT_TYPES = new Set([20, 21, 22, 23, 24]);

/** Nothing held: one shared empty list, not one per direction of every open connection. */
const NO_CHUNKS: Buffer[] = Object.freeze([]) as never[];

export class RecordReader {
  private chunks: Buffer[] = NO_CHUNKS;
  private buffered = 0;
  /** Set when the input stops looking like TLS records; nothing more is read after it. */
  error: string | null = null;

  /** Bytes of an incomplete record held back. */
  get pending(): number {
    return this.buffered;
  }

  push(bytes: Buffer, frame: number): TlsRecord[] {
    if (this.error || bytes.length === 0) return [];
    const copy = Buffer.from(bytes);
    if (this.chunks === NO_CHUNKS) this.chunks = [copy];
    else this.chunks.push(copy);
    this.buffered += bytes.length;
    const records: TlsRecord[] = [];
    while (this.buffered >= RECORD_HEADER_LENGTH) {
      const header = this.peek(RECORD_HEADER_LENGTH);
      const type = header[0]!;
      const length = header.readUInt16BE(3);
      if (!CONTENT_TYPES.has(type) || header[1] !== 3 || length > MAX_FRAGMENT_LENGTH) {
        this.error = `not a TLS record header (${header.toString('hex')})`;
        this.chunks = NO_CHUNKS;
        this.buffered = 0;
        break;
      }
      if (this.buffered < RECORD_HEADER_LENGTH + length) break;
      const whole = this.take(RECORD_HEADER_LENGTH + length);
      records.push({
        type,
        version: header.readUInt16BE(1),
        header: whole.subarray(0, RECORD_HEADER_LENGTH),
        body: whole.subarray(RECORD_HEADER_LENGTH),
        frame,
      });
    }
    return records;
  }

  /** Drop what is held (after a gap, the rest of the direction cannot be framed). */
  clear(): void {
    this.chunks = NO_CHUNKS;
    this.buffered = 0;
  }

  /** The first n buffered bytes, joining chunks only as far as needed. */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const out = Buffer.from(this.peek(n)); // a copy, so the record does not pin a large joined chunk
    const first = this.chunks[0]!;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    if (this.chunks.length === 0) this.chunks = NO_CHUNKS;
    return out;
  }
}
