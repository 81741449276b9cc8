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

  push(chunk: Buffer): void {
    if (this.pos < this.buf.length) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    } else {
      this.buf = chunk;
    }
    this.base += this.pos;
    this.pos = 0;
    this.consume();
    // The caller may reuse `chunk` for its next read: keep our own copy of an unfinished record.
    if (this.pos < this.buf.length && this.buf === chunk) {
      this.base += this.pos;
      this.buf = Buffer.from(this.buf.subarray(this.pos));
      this.pos = 0;
    }
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
