import { grownCapacity, pushValue, uint32List } from './typed-list.js';

/**
 * Lines kept as UTF-8 octets in one buffer outside the collected heap, each known by its number until clear().
 * The fetch tracker holds thousands of encoded records for a while before it spills them: as strings they
 * outlived the young generation, and copying them there and into the old one cost a tenth of `fetches --json`
 * on a folder sync. A number in a map costs the heap nothing.
 */
export class LineArena {
  private octets: Buffer;
  private used = 0;
  /** Where each line ends (its start is the previous one's end). */
  private readonly ends = uint32List(1024);

  constructor(capacity = 64 * 1024) {
    this.octets = Buffer.allocUnsafe(capacity);
  }

  /** Lines held (their numbers are 0 to count - 1). */
  get count(): number {
    return this.ends.size;
  }

  /** Octets the lines take. */
  get bytes(): number {
    return this.used;
  }

  /** Keep `line`; returns its number. */
  add(line: string): number {
    // A UTF-16 unit takes at most 3 octets in UTF-8.
    const most = this.used + 3 * line.length;
    if (most > this.octets.length) {
      const grown = Buffer.allocUnsafe(Math.max(grownCapacity(this.octets.length), most));
      this.octets.copy(grown, 0, 0, this.used);
      this.octets = grown;
    }
    this.used += this.octets.write(line, this.used, 'utf8');
    pushValue(this.ends, this.used);
    return this.ends.size - 1;
  }

  /** Line `n`'s octets: a view, valid until the next add() or clear(). */
  octetsOf(n: number): Buffer {
    return this.octets.subarray(n === 0 ? 0 : this.ends.values[n - 1]!, this.ends.values[n]!);
  }

  textOf(n: number): string {
    return this.octetsOf(n).toString('utf8');
  }

  /** Forget every line (the buffer is kept for the next ones). */
  clear(): void {
    this.used = 0;
    this.ends.size = 0;
  }
}
