/**
 * Seeded pseudo-random numbers for randomised tests: the same sequence on every run, and every bit of it
 * random (mulberry32, 32-bit integer arithmetic). An LCG written with plain multiplication loses its low bits
 * to floating-point rounding once the product passes 2^53, and `seed % n` then repeats a few values.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Seeded whole numbers in [0, n), for n up to 2^32. */
export function seededInt(seed: number): (n: number) => number {
  const random = seededRandom(seed);
  return (n) => Math.floor(random() * n);
}
