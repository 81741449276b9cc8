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
    this.buf = tail > 0 ? this.carried(this.buf, this.pos, chunk) : chunk;
    this.pos = 0;
    this.consume();
    // The caller may reuse `chunk` for its next read: keep our own copy of an unfinished record.
    if (this.pos < this.buf.length && this.buf === chunk) {
      this.base += this.pos;
      this.buf = this.carried(chunk, this.pos, null);
      this.pos = 0;
    }
  }

  /** `from` after `start`, then `then` if given, in the carry buffer (`from` may already live in it). */
  private carried(from: Buffer, start: number, then: Buffer | null): Buffer {
    const kept = from.length - start;
    const size = kept + (then?.length ?? 0);
    let carry = this.carry;
    if (!carry || carry.length < size) {
      carry = Buffer.allocUnsafe(Math.max(size, 2 * (carry?.length ?? 0)));
      this.carry = carry;
    }
    from.copy(carry, 0, start); // copy is memmove: overlapping is fine
    then?.copy(carry, kept);
    return carry.subarray(0, size);
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
