/**
 * Side-by-side alignment of two sequences, as `diff -y` shows them: a shortest edit script (Myers'
 * O((N+M)·D) algorithm), then each run of deletions next to a run of insertions shown as changed lines.
 */
import { LazyList } from '../util/json.js';

export type Mark = 'same' | 'changed' | 'onlyA' | 'onlyB';

export interface AlignedRow {
  mark: Mark;
  a: string | null;
  b: string | null;
}

const MARKS: readonly Mark[] = ['same', 'changed', 'onlyA', 'onlyB'];
const SAME = 0;
const CHANGED = 1;
const ONLY_A = 2;
const ONLY_B = 3;

/** What an AlignedRows makes of its items: its own items() does the work (no closure per alignment). */
const MADE_BY_ITEMS = (): Iterable<AlignedRow> => [];

/**
 * The rows of an alignment, kept as numbers: two per row in one column, where its a and b stand in their sequences,
 * the mark told by which are missing (-1) and, for a changed row, by b's place kept as -2 - place. 8 bytes a row, and
 * one typed array per alignment: compare keeps an alignment per pair of command sequences it met (10,000 sequences of
 * a few commands took 8 MB as three columns each and a counting list). A row becomes an object only when it is read: a
 * connection of 400,000 commands aligns into 400,000 rows, and they are written one at a time.
 */
export class AlignedRows extends LazyList<AlignedRow> {
  private readonly same: number;
  private readonly changed: number;
  private readonly onlyA: number;

  constructor(private readonly a: readonly string[], private readonly b: readonly string[], private readonly cells: Int32Array) {
    super(cells.length / 2, MADE_BY_ITEMS);
    let same = 0;
    let changed = 0;
    let onlyA = 0;
    for (let i = 0; i < cells.length; i += 2) {
      const y = cells[i + 1]!;
      if (cells[i]! < 0) continue;
      if (y >= 0) same++;
      else if (y === -1) onlyA++;
      else changed++;
    }
    this.same = same;
    this.changed = changed;
    this.onlyA = onlyA;
  }

  /** Every item of one sequence with no counterpart: the rows of a connection that has no partner. */
  static oneSided(items: readonly string[], side: 'a' | 'b'): AlignedRows {
    const cells = new Int32Array(2 * items.length).fill(-1);
    for (let i = 0; i < items.length; i++) cells[2 * i + (side === 'a' ? 0 : 1)] = i;
    return side === 'a' ? new AlignedRows(items, [], cells) : new AlignedRows([], items, cells);
  }

  override items(): Iterable<AlignedRow> {
    return this.rowsFrom();
  }

  private *rowsFrom(): Generator<AlignedRow> {
    for (let i = 0; i < this.length; i++) yield this.row(i);
  }

  row(i: number): AlignedRow {
    const x = this.cells[2 * i]!;
    const y = this.cells[2 * i + 1]!;
    return { mark: MARKS[markOf(x, y)]!, a: x < 0 ? null : this.a[x]!, b: y >= 0 ? this.b[y]! : y <= -2 ? this.b[-2 - y]! : null };
  }

  mark(i: number): Mark {
    return MARKS[markOf(this.cells[2 * i]!, this.cells[2 * i + 1]!)]!;
  }

  /** How many rows have this mark. */
  count(mark: Mark): number {
    if (mark === 'same') return this.same;
    if (mark === 'changed') return this.changed;
    if (mark === 'onlyA') return this.onlyA;
    return this.length - this.same - this.changed - this.onlyA;
  }

  /** The first `limit` rows with this mark. */
  firstWith(mark: Mark, limit: number): AlignedRow[] {
    const code = MARKS.indexOf(mark);
    const out: AlignedRow[] = [];
    for (let i = 0; i < this.length && out.length < limit; i++) if (markOf(this.cells[2 * i]!, this.cells[2 * i + 1]!) === code) out.push(this.row(i));
    return out;
  }
}

/** A row's mark from its two cells: a missing side (-1) makes it one-sided; b kept below -1 makes it changed. */
function markOf(x: number, y: number): number {
  if (x < 0) return ONLY_B;
  return y >= 0 ? SAME : y === -1 ? ONLY_A : CHANGED;
}

/** Beyond this many edits the sequences are too different for a line-by-line view to help. */
const MAX_EDITS = 2000;

/** Edit operations, one byte each: what they apply to follows from their order (a keep takes one of each). */
const KEEP = 0;
const DELETE = 1;
const INSERT = 2;

export function align(a: readonly string[], b: readonly string[]): AlignedRows {
  // Common prefix and suffix cost nothing: keep them out of the search.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const middle = editScript(a.slice(start, endA), b.slice(start, endB));
  const ops = new Uint8Array(start + middle.length + (a.length - endA));
  ops.set(middle, start); // KEEP (0) before and after it
  return rowsFromEdits(a, b, ops);
}

/** Similarity of two aligned sequences, 0…1: twice the rows they share over their total length (two empty ones: 1). */
export function similarity(rows: AlignedRows, lengthA: number, lengthB: number): number {
  if (lengthA + lengthB === 0) return 1;
  return (2 * rows.count('same')) / (lengthA + lengthB);
}

function editScript(a: readonly string[], b: readonly string[]): Uint8Array {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  // At least |n - m| edits: when that is already too many, the search would only find so.
  if (n === 0 || m === 0 || Math.abs(n - m) > max) return replacement(n, m);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // Before each step d, the furthest points of the diagonals it reads (-d…d): d² numbers in all, not max² (16 MiB).
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(n, m, trace);
    }
  }
  // Too different: everything in a replaced by everything in b.
  return replacement(n, m);
}

function replacement(n: number, m: number): Uint8Array {
  return new Uint8Array(n + m).fill(DELETE, 0, n).fill(INSERT, n);
}

/** The edits from the furthest points before each step (trace[d] holds diagonals -d…d at d + k). */
function backtrack(n: number, m: number, trace: Int32Array[]): Uint8Array {
  const reversed: number[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && v[d + k - 1]! < v[d + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : v[d + prevK]!;
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) { reversed.push(KEEP); x--; y--; }
    if (d === 0) break;
    reversed.push(down ? INSERT : DELETE);
    if (down) y--;
    else x--;
  }
  while (x > 0 && y > 0) { reversed.push(KEEP); x--; y--; }
  return Uint8Array.from(reversed.reverse());
}

/** Pair each run of deletions with the insertions beside it as changed rows; the rest stand alone. */
function rowsFromEdits(a: readonly string[], b: readonly string[], ops: Uint8Array): AlignedRows {
  // Counted first, so that the columns are made at their size (one pass with room for every edit, then cut, took 5–15
  // MiB more at the peak for a connection of 400,000 commands).
  let rows = 0;
  for (let i = 0; i < ops.length;) {
    if (ops[i] === KEEP) { rows++; i++; continue; }
    let removed = 0;
    let added = 0;
    for (; i < ops.length && ops[i] !== KEEP; i++) if (ops[i] === DELETE) removed++; else added++;
    rows += Math.max(removed, added);
  }
  const cells = new Int32Array(2 * rows);
  let r = 0;
  let x = 0;
  let y = 0;
  const put = (i: number, j: number) => { cells[r++] = i; cells[r++] = j; };
  for (let i = 0; i < ops.length;) {
    if (ops[i] === KEEP) { put(x++, y++); i++; continue; }
    let removed = 0;
    let added = 0;
    for (; i < ops.length && ops[i] !== KEEP; i++) if (ops[i] === DELETE) removed++; else added++;
    const paired = Math.min(removed, added);
    for (let j = 0; j < paired; j++) put(x + j, -2 - (y + j));
    for (let j = paired; j < removed; j++) put(x + j, -1);
    for (let j = paired; j < added; j++) put(-1, y + j);
    x += removed;
    y += added;
  }
  return new AlignedRows(a, b, cells);
}
