/** A small deterministic PRNG (xorshift32): a campaign started with the same seed replays exactly. */
export class Rng {
  private x: number;

  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.x = x;
    return x / 2 ** 32;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Small numbers far more often than large ones: lengths, counts, offsets. */
  small(max: number): number {
    return Math.min(max, Math.floor(2 ** (this.next() * Math.log2(max + 1))) - 1 + this.int(2));
  }
}
