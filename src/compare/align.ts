/**
 * Side-by-side alignment of two sequences, as `diff -y` shows them: a shortest edit script (Myers'
 * O((N+M)·D) algorithm), then each run of deletions next to a run of insertions shown as changed lines.
 */

export type Mark = 'same' | 'changed' | 'onlyA' | 'onlyB';

export interface AlignedRow {
  mark: Mark;
  a: string | null;
  b: string | null;
}

/** Beyond this many edits the sequences are too different for a line-by-line view to help. */
const MAX_EDITS = 2000;

type Edit = { op: '=' | '-' | '+'; a?: string; b?: string };

export function align(a: readonly string[], b: readonly string[]): AlignedRow[] {
  // Common prefix and suffix cost nothing: keep them out of the search.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const middle = editScript(a.slice(start, endA), b.slice(start, endB));
  const edits: Edit[] = [
    ...a.slice(0, start).map((x): Edit => ({ op: '=', a: x, b: x })),
    ...middle,
    ...a.slice(endA).map((x): Edit => ({ op: '=', a: x, b: x })),
  ];
  return rowsOf(edits);
}

/** Similarity of two aligned sequences, 0…1: twice the rows they share over their total length (two empty ones: 1). */
export function similarity(rows: readonly AlignedRow[], lengthA: number, lengthB: number): number {
  if (lengthA + lengthB === 0) return 1;
  const common = rows.filter((r) => r.mark === 'same').length;
  return (2 * common) / (lengthA + lengthB);
}

function editScript(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((x) => ({ op: '+', b: x }));
  if (m === 0) return a.map((x) => ({ op: '-', a: x }));
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max;
  let v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      next[offset + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, [...trace, next], offset);
    }
    v = next;
  }
  // Too different: everything in a replaced by everything in b.
  return [...a.map((x): Edit => ({ op: '-', a: x })), ...b.map((x): Edit => ({ op: '+', b: x }))];
}

function backtrack(a: readonly string[], b: readonly string[], trace: Int32Array[], offset: number): Edit[] {
  const edits: Edit[] = [];
  let x = a.length;
  let y = b.length;
  // trace[d + 1] holds the furthest points after d edits; trace[d] the ones before.
  for (let d = trace.length - 2; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : v[offset + prevK]!;
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) edits.push({ op: '=', a: a[--x], b: b[--y] });
    if (d === 0) break;
    if (down) edits.push({ op: '+', b: b[--y] });
    else edits.push({ op: '-', a: a[--x] });
  }
  while (x > 0 && y > 0) edits.push({ op: '=', a: a[--x], b: b[--y] });
  return edits.reverse();
}

/** Pair each run of deletions with the insertions beside it as changed rows; the rest stand alone. */
function rowsOf(edits: Edit[]): AlignedRow[] {
  const rows: AlignedRow[] = [];
  for (let i = 0; i < edits.length;) {
    if (edits[i]!.op === '=') {
      rows.push({ mark: 'same', a: edits[i]!.a!, b: edits[i]!.b! });
      i++;
      continue;
    }
    const removed: string[] = [];
    const added: string[] = [];
    while (i < edits.length && edits[i]!.op !== '=') {
      const e = edits[i++]!;
      if (e.op === '-') removed.push(e.a!);
      else added.push(e.b!);
    }
    const paired = Math.min(removed.length, added.length);
    for (let j = 0; j < paired; j++) rows.push({ mark: 'changed', a: removed[j]!, b: added[j]! });
    for (const x of removed.slice(paired)) rows.push({ mark: 'onlyA', a: x, b: null });
    for (const y of added.slice(paired)) rows.push({ mark: 'onlyB', a: null, b: y });
  }
  return rows;
}
