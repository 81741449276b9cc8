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

/** A copy of `s` that does not keep alive the larger string it may have been cut from. */
export function detached(s: string): string {
  // Short slices are copies already; a JSON round trip gives a fresh flat string (a slice of a copy would
  // cost a second object).
  return s.length < 13 ? s : JSON.parse(JSON.stringify(s)) as string;
}
