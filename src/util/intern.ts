/**
 * Canonical copies of values that recur across a whole capture (section specs, item names, flag lists),
 * so that thousands of fetch records point at one copy instead of each holding its own. A string cut
 * from a wire line also keeps the whole line alive in V8 (a "sliced string"); the copy kept here is
 * detached from it. Bounded: when full the table starts over, which only costs sharing, never answers.
 */
export class Interner<T> {
  private readonly table = new Map<string, T>();

  constructor(private readonly make: (key: string) => T, private readonly max = 10_000) {}

  get(key: string): T {
    let v = this.table.get(key);
    if (v === undefined) {
      if (this.table.size >= this.max) this.table.clear();
      const own = detached(key);
      v = this.make(own);
      this.table.set(own, v);
    }
    return v;
  }
}

/**
 * Values kept once each and numbered in the order first seen, found again by the key each gives: what a table of
 * rows refers to by number (compare's command sequences, traits and groups).
 */
export class Numbered<T> {
  readonly values: T[] = [];
  private readonly numbers = new Map<string, number>();

  constructor(private readonly key: (value: T) => string) {}

  number(value: T): number {
    const key = this.key(value);
    let n = this.numbers.get(key);
    if (n === undefined) {
      n = this.values.push(value) - 1;
      this.numbers.set(key, n);
    }
    return n;
  }
}

/**
 * Shared, frozen copies of string lists (capability and flag lists), looked up by their exact content.
 * Frozen, because every holder shares them: one that changed its copy would change everyone's.
 */
export class ListInterner {
  private readonly table = new Interner<string[]>((key) => Object.freeze(JSON.parse(key) as string[]) as string[]);

  get(words: readonly string[]): string[] {
    return this.table.get(JSON.stringify(words));
  }
}

/** A copy of `s` that does not keep alive the larger string it may have been cut from. */
export function detached(s: string): string {
  // Short slices are copies already; a JSON round trip gives a fresh flat string. (A slice of a copy, one character
  // longer, takes a third of the time, but keeps a second object of 32 bytes beside the copy: every value of a tree
  // held in memory would carry it.)
  return s.length < 13 ? s : JSON.parse(JSON.stringify(s)) as string;
}
