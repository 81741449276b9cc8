/** Names that always have a row of their own: a Map's or a Set's keys (data, so that a tally crosses threads as it is). */
export interface KnownNames {
  has(name: string): boolean;
}

const NO_NAMES: KnownNames = new Set<string>();

/**
 * Names read off the wire that figures are counted by (command names, response types): each known name, and the
 * first `max` others, is a row of its own; every later new name is counted in the row `other`. A client or server can
 * invent a name per line, and each row costs what it counts. The same names in the same order give the same rows, so
 * that two tallies of them agree.
 */
export class CappedNames {
  private readonly listed = new Set<string>();
  /** How many times a name was counted in `other`: the first time, the caller says so. */
  pooled = 0;

  constructor(
    readonly max: number,
    /** Not an IMAP atom, so that no name read off the wire is this. */
    readonly other: string,
    private readonly known: KnownNames = NO_NAMES,
  ) {}

  /** The row `name` is counted in. */
  row(name: string): string {
    if (this.known.has(name) || this.listed.has(name)) return name;
    if (this.listed.size >= this.max) {
      this.pooled++;
      return this.other;
    }
    this.listed.add(name);
    return name;
  }

  /** Is `row` (as row() just gave it) the first name counted in `other`? Then the caller says so, once. */
  firstPooled(row: string): boolean {
    return row === this.other && this.pooled === 1;
  }
}
