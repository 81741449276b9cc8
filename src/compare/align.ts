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

/**
 * The rows of an alignment, kept as numbers: each row's mark and where its a and b stand in their sequences (-1: none),
 * 9 bytes a row. A row becomes an object only when it is read: a connection of 400,000 commands aligns into 400,000
 * rows, and they are written one at a time.
 */
export class AlignedRows extends LazyList<AlignedRow> {
  private readonly counts = [0, 0, 0, 0];

  constructor(
    private readonly a: readonly string[],
    private readonly b: readonly string[],
    private readonly marks: Uint8Array,
    private readonly atA: Int32Array,
    private readonly atB: Int32Array,
  ) {
    super(marks.length, () => rowsOf(a, b, marks, atA, atB));
    for (const mark of marks) this.counts[mark]!++;
  }

  /** Every item of one sequence with no counterpart: the rows of a connection that has no partner. */
  static oneSided(items: readonly string[], side: 'a' | 'b'): AlignedRows {
    const at = Int32Array.from(items, (_, i) => i);
    const none = new Int32Array(items.length).fill(-1);
    const marks = new Uint8Array(items.length).fill(side === 'a' ? ONLY_A : ONLY_B);
    return side === 'a' ? new AlignedRows(items, [], marks, at, none) : new AlignedRows([], items, marks, none, at);
  }

  row(i: number): AlignedRow {
    return rowAt(this.a, this.b, this.marks, this.atA, this.atB, i);
  }

  mark(i: number): Mark {
    return MARKS[this.marks[i]!]!;
  }

  /** How many rows have this mark. */
  count(mark: Mark): number {
    return this.counts[MARKS.indexOf(mark)]!;
  }

  /** The first `limit` rows with this mark. */
  firstWith(mark: Mark, limit: number): AlignedRow[] {
    const code = MARKS.indexOf(mark);
    const out: AlignedRow[] = [];
    for (let i = 0; i < this.marks.length && out.length < limit; i++) if (this.marks[i] === code) out.push(this.row(i));
    return out;
  }
}

function rowAt(a: readonly string[], b: readonly string[], marks: Uint8Array, atA: Int32Array, atB: Int32Array, i: number): AlignedRow {
  const x = atA[i]!;
  const y = atB[i]!;
  return { mark: MARKS[marks[i]!]!, a: x < 0 ? null : a[x]!, b: y < 0 ? null : b[y]! };
}

function* rowsOf(a: readonly string[], b: readonly string[], marks: Uint8Array, atA: Int32Array, atB: Int32Array): Generator<AlignedRow> {
  for (let i = 0; i < marks.length; i++) yield rowAt(a, b, marks, atA, atB, i);
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
  const marks = new Uint8Array(rows);
  const atA = new Int32Array(rows);
  const atB = new Int32Array(rows);
  let r = 0;
  let x = 0;
  let y = 0;
  const put = (mark: number, i: number, j: number) => { marks[r] = mark; atA[r] = i; atB[r++] = j; };
  for (let i = 0; i < ops.length;) {
    if (ops[i] === KEEP) { put(SAME, x++, y++); i++; continue; }
    let removed = 0;
    let added = 0;
    for (; i < ops.length && ops[i] !== KEEP; i++) if (ops[i] === DELETE) removed++; else added++;
    const paired = Math.min(removed, added);
    for (let j = 0; j < paired; j++) put(CHANGED, x + j, y + j);
    for (let j = paired; j < removed; j++) put(ONLY_A, x + j, -1);
    for (let j = paired; j < added; j++) put(ONLY_B, -1, y + j);
    x += removed;
    y += added;
  }
  return new AlignedRows(a, b, marks, atA, atB);
}
