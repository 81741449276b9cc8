import chalk from 'chalk';
import type { AlignedRow, AlignedRows, Mark } from '../compare/align.js';
import { allSame, type Comparisons, type ConnectionPair } from '../compare/diff.js';
import { KEPT_PROFILES, type BehaviourProfile, type ProfileConnections, type Profiles } from '../compare/profile.js';
import { escapeText } from '../util/escape.js';
import { bytesHuman, makeTable } from './format.js';
import { tablePieces } from './table.js';
import { LazyArray, LazyList } from '../util/json.js';

/** JSON twin of compare (schema: docs/schema/compare.schema.json). */
export function compareJson(profiles: Profiles, comparisons: Comparisons): object {
  // The long lists (a comparison and a profile per client, a pair and a connection per connection) are written an
  // element at a time, not as one string each, and comparisons made as they are written (comparisonsWithFirst).
  return {
    same: allSame(comparisons),
    differences: comparisons.length === 1 ? firstOf(comparisons).differences : new LazyArray(() => allDifferences(comparisons)),
    // Lists of known length (LazyList), so that a short comparison or profile is written with its neighbours.
    comparisons: new LazyArray(() => mapped(comparisons, (c) => ({ ...c, pairs: new LazyList(c.pairs.length, () => mapped(c.pairs, pairJson)) }))),
    profiles: new LazyArray(() => mapped(profiles, (p) => ({ ...p, connections: new LazyList(p.connections.length, () => p.connections) }))),
  };
}

function* mapped<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

function firstOf<T>(items: Iterable<T>): T {
  for (const item of items) return item;
  throw new Error('compare: no comparison');
}

/** Every comparison's differences, each saying which two profiles it is between. */
function* allDifferences(comparisons: Comparisons): Generator<object> {
  for (const c of comparisons) for (const d of c.differences) yield { ...d, between: [c.a, c.b] };
}

function pairJson(p: ConnectionPair): object {
  return { a: p.a?.conn ?? null, b: p.b?.conn ?? null, role: p.role, similarity: p.similarity, rows: p.rows };
}

/** Connections listed one by one in the profile table; more are counted by their number of commands. */
export const LISTED_COMMAND_COUNTS = 12;

/**
 * Each connection's number of commands ("25 / 19 / 3"), or, for many connections, each number with how many had it,
 * the most frequent first ("6 (×6600) / 5 (×52)", plain numbers as the table's others): a server's capture of 6,652 sessions made a cell of 26,000
 * characters, and every line of the table as wide.
 */
export function commandCounts(counts: readonly number[]): string {
  if (counts.length <= LISTED_COMMAND_COUNTS) return counts.join(' / ');
  const times = new Map<number, number>();
  for (const n of counts) times.set(n, (times.get(n) ?? 0) + 1);
  return [...times].sort((x, y) => y[1] - x[1] || x[0] - y[0]).map(([n, k]) => `${n} (×${k})`).join(' / ');
}

/** What was the same, listed up to this many aspects (a server's capture has two per pair of connections); --full lists all. */
export const LISTED_SAME = 12;

export function sameText(aspects: LazyList<string>, full: boolean): string {
  if (full || aspects.length <= LISTED_SAME) return [...aspects].join('; ');
  const more = aspects.length - LISTED_SAME;
  return `${aspects.first(LISTED_SAME).join('; ')}; and ${more.toLocaleString('en-US')} more (--full or --json lists every one)`;
}

export interface CompareTextOptions {
  /** Characters per line for the side-by-side view (the terminal's width, or 160 in a pipe). */
  width: number;
  /** Show every row; otherwise long runs of equal commands are folded to a count. */
  full?: boolean;
}

/** What the profile table shows of each profile, in its order. */
const PROFILE_FIGURES: readonly { name: string; shrink?: number; of: (p: BehaviourProfile) => string }[] = [
  { name: 'connections', of: (p) => String(p.connections.length) },
  { name: 'most at once', of: (p) => String(p.maxConcurrent) },
  { name: 'client ID', shrink: 2, of: (p) => escapeText(p.clientIds.join(', ')) },
  { name: 'authentication', of: (p) => p.authMechanisms.join(', ') },
  { name: 'extensions', shrink: 3, of: (p) => p.extensions.join(' ') },
  { name: 'commands per connection', shrink: 4, of: (p) => commandCounts(Array.from({ length: p.connections.length }, (_, i) => p.connections.commands(i).length)) },
  { name: 'FETCH commands', of: (p) => String(fetchCommands(p.connections)) },
  { name: 'bytes C→S / S→C', of: (p) => `${bytesHuman(p.bytes.client)} / ${bytesHuman(p.bytes.server)}` },
];

/** compare's text, line by line, each with its newline: 100,000 connection pairs make 33 MB of text, never one string. */
export function* compareTextLines(profiles: Profiles, comparisons: Comparisons, options: CompareTextOptions = { width: 160 }): Generator<string> {
  yield* profileTable(profiles);
  yield '\n';
  for (const c of comparisons) {
    yield '\n';
    yield `${chalk.bold(`a = ${escapeText(c.a)}`)}\n`;
    yield `${chalk.bold(`b = ${escapeText(c.b)}`)}\n`;
    let i = 0;
    for (const pair of c.pairs) for (const line of pairLines(pair, i++, c.pairs.length, options)) yield `${line}\n`;
    yield '\n';
    if (c.same) {
      yield `${chalk.green(`a and b behave the same (${c.sameAspects.length} aspects compared; accounts, tags, UIDs and times do not count).`)}\n`;
      continue;
    }
    yield `${chalk.red(`a and b behave differently in ${c.differences.length} way(s):`)}\n`;
    for (const d of c.differences) yield `  - ${escapeText(d.text)}\n`;
    if (c.sameAspects.length) yield `  The same: ${escapeText(sameText(c.sameAspects, options.full === true))}.\n`;
  }
}

/**
 * The profiles side by side, a column each; past KEPT_PROFILES (a profile per client address or user of a server), a
 * row each, drawn as the profiles are made: 150,000 columns took 1.3 GiB and no screen shows them.
 */
function* profileTable(profiles: Profiles): Generator<string> {
  if (profiles.length > KEPT_PROFILES) {
    yield* tablePieces([{ head: 'profile', shrink: 1 }, ...PROFILE_FIGURES.map((f) => ({ head: f.name, shrink: f.shrink }))],
      () => mapped(profiles, (p) => [escapeText(p.label), ...PROFILE_FIGURES.map((f) => f.of(p))]));
    return;
  }
  const list = [...profiles];
  const table = makeTable(['', ...list.map((p) => ({ head: escapeText(p.label), shrink: 1 }))]);
  for (const f of PROFILE_FIGURES) table.push([f.name, ...list.map(f.of)]);
  yield table.toString();
}

/** FETCH commands over the connections, counted once per command sequence. */
function fetchCommands(connections: ProfileConnections): number {
  const perClass = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < connections.length; i++) {
    const cls = connections.commandClass(i);
    let n = perClass.get(cls);
    if (n === undefined) perClass.set(cls, (n = connections.commands(i).filter((cmd) => /^(UID )?FETCH\b/.test(cmd)).length));
    total += n;
  }
  return total;
}

const MARK_SIGN: Record<Mark, string> = { same: ' ', changed: '|', onlyA: '<', onlyB: '>' };
/** Equal runs longer than this fold to their first and last lines and a count. */
const CONTEXT = 2;

function* pairLines(pair: ConnectionPair, index: number, total: number, options: CompareTextOptions): Generator<string> {
  const who = (side: 'a' | 'b') => {
    const c = pair[side];
    return c ? `${side} conn ${c.conn} (${c.commands.length} commands)` : `nothing in ${side}`;
  };
  const head = `pair ${index + 1} of ${total}, the connection that ${pair.role}: ${who('a')} ↔ ${who('b')}` +
    (pair.a && pair.b ? `, ${Math.round(pair.similarity * 100)}% alike` : '');
  yield chalk.bold(escapeText(head));
  let longest = 0;
  for (const r of pair.rows) longest = Math.max(longest, escapeText(r.a ?? '').length);
  const column = Math.max(20, Math.min(longest, Math.floor((options.width - 3) / 2)));
  for (const r of foldRows(pair.rows, options.full ?? false)) {
    if (typeof r === 'number') {
      yield chalk.dim(`  … ${r} equal command(s) …`);
      continue;
    }
    const text = `${fit(r.a ?? '', column)} ${MARK_SIGN[r.mark]} ${r.b === null ? '' : fit(r.b, column).trimEnd()}`.trimEnd();
    yield r.mark === 'same' ? text : r.mark === 'changed' ? chalk.yellow(text) : r.mark === 'onlyA' ? chalk.red(text) : chalk.green(text);
  }
}

/** Rows, with long equal runs replaced by how many rows were left out; read one at a time. */
function* foldRows(rows: AlignedRows, full: boolean): Generator<AlignedRow | number> {
  if (full) {
    yield* rows;
    return;
  }
  for (let i = 0; i < rows.length;) {
    if (rows.mark(i) !== 'same') {
      yield rows.row(i++);
      continue;
    }
    let j = i;
    while (j < rows.length && rows.mark(j) === 'same') j++;
    const keepHead = i === 0 ? 0 : CONTEXT;
    const keepTail = j === rows.length ? 0 : CONTEXT;
    if (j - i > keepHead + keepTail + 1) {
      for (let k = i; k < i + keepHead; k++) yield rows.row(k);
      yield j - i - keepHead - keepTail;
      for (let k = j - keepTail; k < j; k++) yield rows.row(k);
    } else {
      for (let k = i; k < j; k++) yield rows.row(k);
    }
    i = j;
  }
}

/** Escaped, cut to the column with "…", padded to its width. */
function fit(text: string, width: number): string {
  const safe = escapeText(text);
  const cut = safe.length > width ? `${safe.slice(0, width - 1)}…` : safe;
  return cut.padEnd(width);
}
