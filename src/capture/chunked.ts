/**
 * Base for record-oriented file parsers that receive the file in arbitrary chunks.
 * Subclasses consume whole records from `buf` starting at `pos`; a record cut by a chunk boundary
 * stays in `buf` and is completed by the next push. Only the unconsumed tail is ever copied.
 */
export abstract class ChunkedParser {
  protected buf: Buffer = Buffer.alloc(0);
  protected pos = 0;
  /** Absolute file offset of buf[0], for messages. */
  protected base = 0;
  /**
   * Our own storage for a record cut by a chunk boundary, reused from chunk to chunk: a fresh buffer per
   * chunk would be a megabyte of external memory each time, which the garbage collector frees late.
   */
  private carry: Buffer | null = null;

  push(chunk: Buffer): void {
    const tail = this.buf.length - this.pos;
    this.base += this.pos;
    this.buf = tail > 0 ? this.joined(tail, chunk) : chunk;
    this.pos = 0;
    this.consume();
    // The caller may reuse `chunk` for its next read: keep our own copy of an unfinished record.
    if (this.pos < this.buf.length && this.buf === chunk) {
      this.base += this.pos;
      const rest = this.buf.length - this.pos;
      const carry = this.room(rest);
      chunk.copy(carry, 0, this.pos);
      this.buf = carry.subarray(0, rest);
      this.pos = 0;
    }
  }

  /** The unconsumed `tail` of buf followed by `chunk`, in the carry buffer. */
  private joined(tail: number, chunk: Buffer): Buffer {
    const from = this.buf;
    const start = this.pos;
    const carry = this.room(tail + chunk.length, from, start, tail);
    chunk.copy(carry, tail);
    return carry.subarray(0, tail + chunk.length);
  }

  /**
   * A carry buffer of at least `size` bytes; when `from` is given, its `length` bytes at `start` are moved
   * to the front first (they may already live in the carry buffer).
   */
  private room(size: number, from?: Buffer, start = 0, length = 0): Buffer {
    const old = this.carry;
    if (old && old.length >= size) {
      if (from) from.copy(old, 0, start, start + length); // copy is memmove: overlapping is fine
      return old;
    }
    const grown = Buffer.allocUnsafe(Math.max(size, (old?.length ?? 0) * 2));
    if (from) from.copy(grown, 0, start, start + length);
    this.carry = grown;
    return grown;
  }

  /** Called once after the last chunk. Reports whatever is left over. */
  end(): void {
    this.finish(this.buf.length - this.pos);
  }

  protected get available(): number {
    return this.buf.length - this.pos;
  }

  /** Parse as many whole records as `buf` holds from `pos`, advancing `pos`. */
  protected abstract consume(): void;
  /** `leftover` bytes at the end of the file did not form a whole record. */
  protected abstract finish(leftover: number): void;
}
