import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/** Pairs gathered or read per system call. */
const PAIRS_PER_IO = 4096;
const PAIR_BYTES = 16;

/**
 * A file of number pairs, one per section, by the section's place: how extract keeps a fact per section on disk
 * instead of in memory (a folder sync fetches hundreds of thousands of sections). Pairs are appended in place
 * order or set at any place (a file does one or the other); a place never written reads as [0, 0].
 */
export class PairFile {
  private readonly fd: number;
  private readonly gathered = new Float64Array(2 * PAIRS_PER_IO);
  private used = 0;
  /** The place the next appended pair takes. */
  private next = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'wx+', 0o600);
  }

  /** The pair of the next place. */
  append(a: number, b: number): void {
    this.gathered[2 * this.used] = a;
    this.gathered[2 * this.used + 1] = b;
    this.used++;
    this.next++;
    if (this.used === PAIRS_PER_IO) this.flush();
  }

  /** The pair of place `i`, wherever it is. */
  set(i: number, a: number, b: number): void {
    this.flush();
    writeSync(this.fd, new Float64Array([a, b]), 0, PAIR_BYTES, i * PAIR_BYTES);
  }

  /** The pairs of places 0 … count - 1, in order. */
  *pairs(count: number): Generator<[number, number]> {
    this.flush();
    const block = new Float64Array(2 * PAIRS_PER_IO);
    const bytes = new Uint8Array(block.buffer);
    for (let first = 0; first < count; first += PAIRS_PER_IO) {
      const n = Math.min(PAIRS_PER_IO, count - first);
      block.fill(0);
      readSync(this.fd, bytes, 0, n * PAIR_BYTES, first * PAIR_BYTES); // a short read leaves zeros: places never set
      for (let k = 0; k < n; k++) yield [block[2 * k]!, block[2 * k + 1]!];
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.used === 0) return;
    const start = (this.next - this.used) * PAIR_BYTES;
    writeSync(this.fd, this.gathered, 0, this.used * PAIR_BYTES, start);
    this.used = 0;
  }
}
