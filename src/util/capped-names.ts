/** Names that always have a row of their own: a Map's or a Set's keys (data, so that a tally crosses threads as it is). */
export interface KnownNames {
  has(name: string): boolean;
}

const NO_NAMES: KnownNames = new Set<string>();

/**
 * Characters of the names one tally lists apart, at most, whatever their number: a name read off the wire can be as
 * long as a line (1 MiB), and a thousand of those kept a gigabyte.
 */
export const MAX_LISTED_CHARS = 4 * 1024 * 1024;

/**
 * Names read off the wire that figures are counted by (command names, response types, client names): each known name,
 * and the first `max` others (within `maxChars` characters), is a row of its own; every later new name is counted in
 * the row `other`. A client or server can invent a name per line, and each row costs what it counts. The same names
 * in the same order give the same rows, so that two tallies of them agree.
 */
export class CappedNames {
  private readonly listed = new Set<string>();
  /** The characters of the names listed. */
  private chars = 0;
  /** How many times a name was counted in `other`: the first time, the caller says so. */
  pooled = 0;

  constructor(
    readonly max: number,
    /** Not an IMAP atom, so that no name read off the wire is this. */
    readonly other: string,
    private readonly known: KnownNames = NO_NAMES,
    private readonly maxChars = MAX_LISTED_CHARS,
  ) {}

  /** The row `name` is counted in. */
  row(name: string): string {
    if (this.known.has(name) || this.listed.has(name)) return name;
    if (this.listed.size >= this.max || this.chars + name.length > this.maxChars) {
      this.pooled++;
      return this.other;
    }
    this.listed.add(name);
    this.chars += name.length;
    return name;
  }

  /** Is `row` (as row() just gave it) the first name counted in `other`? Then the caller says so, once. */
  firstPooled(row: string): boolean {
    return row === this.other && this.pooled === 1;
  }
}

/** How a warning names a tally's cap: "more than 1000 different names of commands, or 4 MiB of them". */
export function cappedNamesText(max: number, what: string): string {
  return `more than ${max} different ${what}, or ${MAX_LISTED_CHARS / 1024 / 1024} MiB of them`;
}

/** Characters of a name a warning quotes, at most (the name itself may be a line long). */
const QUOTED_CHARS = 200;

/** `name` as a warning quotes it: as JSON, cut to QUOTED_CHARS with "…". */
export function quotedName(name: string): string {
  return JSON.stringify(name.length > QUOTED_CHARS ? `${name.slice(0, QUOTED_CHARS - 1)}…` : name);
}
