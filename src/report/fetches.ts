import { elementPieces, gathered, indentedElements, jsonPieces, jsonText, LazyArray } from '../util/json.js';
import chalk from 'chalk';
import type { FetchedMessage, FetchStep, SectionFetch } from '../analysis/fetches.js';
import { uncoveredLeaves, type MessageView, type PartView } from '../analysis/message-view.js';
import { escapeText } from '../util/escape.js';
import { bytesHuman, makeTable } from './format.js';
import { tablePieces, type ColumnSpec } from './table.js';

export function sectionFetchJson(f: SectionFetch): object {
  return {
    conn: f.conn, tag: f.tag, command: f.command, requestFrame: f.requestFrame, frame: f.frame, item: f.item,
    section: f.section, origin: f.origin, how: f.how, bytes: f.bytes, sha256: f.sha256, complete: f.complete, part: f.part,
  };
}

export function partJson(p: PartView): object {
  return { part: p.part, type: p.type, encoding: p.encoding, size: p.size, filename: p.filename, charset: p.charset, disposition: p.disposition };
}

/** JSON of one message (schema: docs/schema/fetches.schema.json). */
export function messageJson(v: MessageView): object {
  return {
    mailbox: v.mailbox, uidValidity: v.uidValidity, uid: v.uid, seq: v.seq,
    date: v.envelope?.date ?? v.internalDate, subject: v.envelope?.subject ?? null, from: v.envelope?.from ?? null, size: v.size,
    parts: v.parts ? v.parts.map(partJson) : [],
    structureFrom: v.structureFrom,
    // A long list (on disk when merged from runs) is written as it is read: messageElements streams it.
    fetches: isLong(v) ? new LazyArray(() => mapped(v.fetches, sectionFetchJson)) : (v.fetches as SectionFetch[]).map(sectionFetchJson),
    notFetched: v.parts ? uncoveredLeaves(v.parts, (p) => p.leaf, v.fetches).map((p) => p.part) : [],
  };
}

/** Sections past which a message's JSON element and its table are written in pieces, never as one string. */
export const LONG_FETCHES = 1024;

/** Whether the message's sections are many, or on disk (fetch-runs.ts, SpooledFetches: not an array). */
function isLong(m: MessageView, longFetches = LONG_FETCHES): boolean {
  return !Array.isArray(m.fetches) || m.fetches.length > longFetches;
}

export function stepJson(s: FetchStep): object {
  return { conn: s.conn, tag: s.tag, command: s.command, requestFrame: s.requestFrame, mailbox: s.mailbox, messages: s.messages, items: s.items };
}


/**
 * A section's line in its part's "fetched" cell. Joined from an array, so it is one flat string: a template literal
 * makes a rope of its pieces (232 bytes a line against 49 flat: test/flat-strings.test.ts), and a message fetched
 * 200,000 times holds a line per section until its table is drawn.
 */
export function fetchedLine(f: SectionFetch): string {
  const range = f.origin !== null ? ` <${f.origin}.${f.bytes}>` : '';
  const cut = f.complete ? '' : chalk.yellow(' (cut)');
  return ['conn ', f.conn, ' ', escapeText(f.tag ?? '?'), ' ', f.how, range, ' ', bytesHuman(f.bytes), cut].join('');
}

/** `fetches` as text: each message, then the fetch strategy (messages with more than `longFetches` sections in memory drawn in pieces). */
export function fetchesText(messages: Iterable<MessageView>, steps: Iterable<FetchStep>, longFetches = LONG_FETCHES): string {
  return [...fetchesTextPieces(messages, steps, longFetches)].join('');
}

/** Messages whose tables make one piece of fetchesTextPieces, */
export const MESSAGES_PER_PIECE = 64;
/** unless their text reaches this many characters first (a message of thousands of parts or fetches has a long table). */
export const PIECE_CHARS = 256 * 1024;

/**
 * fetchesText() in pieces, so a listing of a folder sync's hundreds of thousands of messages is written as it is made,
 * from messages merged off disk, and never held whole: the tables of MESSAGES_PER_PIECE messages a piece (fewer when
 * they are long), then the fetch strategy's lines gathered. (A piece per message, gathered after into pieces of 64 Ki characters, took 1.08x
 * the time and 9 MiB more for the 100 MiB sync file's listing; by profile, making its pieces into UTF-8 for the output
 * took 0.36 s against 0.17 s.)
 */
export function* fetchesTextPieces(messages: Iterable<MessageView>, steps: Iterable<FetchStep>, longFetches = LONG_FETCHES): Generator<string> {
  let started = false;
  let piece = '';
  let count = 0;
  for (const m of messages) {
    if (isLong(m, longFetches)) {
      // Fetched thousands of times (its sections perhaps on disk): its table is written in pieces, never whole.
      if (piece) yield piece;
      piece = '';
      count = 0;
      yield* gathered(longMessageText(m, started));
      started = true;
      continue;
    }
    piece += started ? `\n${messageText(m)}` : messageText(m);
    started = true;
    if (++count < MESSAGES_PER_PIECE && piece.length < PIECE_CHARS) continue;
    yield piece;
    piece = '';
    count = 0;
  }
  if (piece) yield piece;
  yield* gathered(strategyLines(steps, started));
}

/** The fetch strategy, one line per FETCH command (a folder sync of many sessions has hundreds of thousands). */
function* strategyLines(steps: Iterable<FetchStep>, afterMessages: boolean): Generator<string> {
  let first = true;
  for (const s of steps) {
    if (first) yield `${afterMessages ? '\n' : ''}${chalk.bold('Fetch strategy (each FETCH command: how many messages, which items):')}`;
    first = false;
    yield `\n  conn ${s.conn} ${escapeText(s.tag ?? '?')} ${escapeText(s.command)} in ${escapeText(s.mailbox ?? '?')}: ${s.messages} message(s): ${escapeText(s.items.join(' '))}`;
  }
  yield '\n';
}

/** The columns of a message's table of parts (one list: the table measures its heads once). */
const PART_COLUMNS: readonly ColumnSpec[] = [{ head: 'part', shrink: 3 }, { head: 'type', shrink: 2 }, { head: 'encoding', shrink: 2 }, { head: 'size' }, { head: 'filename', shrink: 4 }, { head: 'fetched', shrink: 1 }];

/** A message's first line: its identity, date, sender, subject and size. */
function messageHead(m: MessageView): string {
  const id = m.uid !== null ? `uid ${m.uid}` : `seq ${m.seq} (UID unknown)`;
  const subject = m.envelope?.subject ? `"${escapeText(m.envelope.subject)}"` : '';
  const from = m.envelope?.from ?? null;
  const date = m.envelope?.date ?? m.internalDate;
  return chalk.bold([`${escapeText(m.mailbox ?? '?')} ${id}`, date === null ? null : escapeText(date), from ? escapeText(from) : null, subject, m.size !== null ? bytesHuman(m.size) : null].filter(Boolean).join(' · '));
}

/** One message: its head, and a table of its parts and what fetched each. */
function messageText(m: MessageView): string {
  const table = makeTable(PART_COLUMNS);
  for (const row of new PartsTable(m).rows(false)) table.push(row);
  return `${messageHead(m)}\n${table.toString()}`;
}

/**
 * messageText() in pieces, after a line break if `after`: each line of its "fetched" column a row of its own, which
 * draws the same table (rows have no rule between them, and a cell of many lines is drawn as rows of one).
 */
function* longMessageText(m: MessageView, after: boolean): Generator<string> {
  const table = new PartsTable(m);
  yield `${after ? '\n' : ''}${messageHead(m)}\n`;
  yield* tablePieces(PART_COLUMNS, () => table.rows(true));
}

/**
 * A message's table: its parts in tree order, each with the lines of what fetched it, then the sections that name no
 * part of the tree. The lines are grouped by the part they name as texts, not sections: a message fetched 100,000
 * times and read from disk holds its lines only. A part fetched once keeps its line alone, not in a list: a message
 * fetched 200,000 times, each time by another section, held a list of one for each (162 MiB for the listing).
 */
class PartsTable {
  private readonly byPart = new Map<string, string | string[]>();
  private readonly missing: Set<PartView>;

  constructor(private readonly m: MessageView) {
    for (const f of m.fetches) {
      const key = f.spec.text && f.spec.text !== 'MIME' ? `${f.spec.part ? `${f.spec.part}.` : ''}${f.section.replace(/^[\d.]*/, '')}` : f.spec.part;
      const line = fetchedLine(f);
      const same = this.byPart.get(key);
      if (same === undefined) this.byPart.set(key, line);
      else if (typeof same === 'string') this.byPart.set(key, [same, line]);
      else same.push(line);
    }
    this.missing = new Set(uncoveredLeaves(m.parts ?? [], (p) => p.leaf, m.fetches));
  }

  /** The rows: a part's lines in one cell, or (`split`) one per row, the rows after its first empty elsewhere. */
  *rows(split: boolean): Generator<string[]> {
    const shown = new Set<string>();
    for (const p of this.m.parts ?? []) {
      // The body enclosed in a message/rfc822 part has that part's number too: show it as enclosed.
      const enclosed = shown.has(p.part);
      const lines = enclosed ? [] : linesOf(this.byPart.get(p.part));
      shown.add(p.part);
      const first = [enclosed ? `${p.part} ↳` : p.part || '(message)', escapeText(p.type), escapeText(p.encoding ?? ''), p.size !== null ? bytesHuman(p.size) : '', escapeText(p.filename ?? '')];
      yield* rowsOf(first, lines.length > 0 ? lines : [this.missing.has(p) ? chalk.dim('not fetched') : ''], split);
    }
    for (const [key, lines] of this.byPart) {
      if (!shown.has(key)) yield* rowsOf([escapeText(key || '(whole message)'), '', '', '', ''], linesOf(lines), split);
    }
  }
}

/** A part's lines as PartsTable keeps them (none, one alone, or a list). */
function linesOf(kept: string | string[] | undefined): readonly string[] {
  return kept === undefined ? [] : typeof kept === 'string' ? [kept] : kept;
}

/** A part's row, its "fetched" lines in its last cell, or (`split`) in that of the row and of rows after it. */
function* rowsOf(first: string[], lines: readonly string[], split: boolean): Generator<string[]> {
  if (!split) {
    yield [...first, lines.join('\n')];
    return;
  }
  yield [...first, lines[0]!];
  for (let i = 1; i < lines.length; i++) yield ['', '', '', '', '', lines[i]!];
}

/** One NDJSON line of `fetches --ndjson`: a fetched section with its message's identity (`capture` when several). */
export function sectionLine(capture: string | null, m: FetchedMessage, f: SectionFetch): string {
  return `${jsonText({ ...(capture !== null ? { capture } : {}), mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, ...sectionFetchJson(f) })}\n`;
}

/** How the `messages` array opens in jsonText(document, 2). */
const MESSAGES_OPEN = '{\n  "messages": [';

/** Elements per piece handed out by messageElements: few pieces to pass along, none of them large. */
const ELEMENTS_PER_PIECE = 64;

/**
 * The elements of the `messages` array of `fetches --json`, as jsonText(document, 2) indents them (two
 * levels deep), in pieces of whole elements, each from the line break before its first element: the pieces
 * are written as they are made, joined by commas.
 */
export function* messageElements(messages: Iterable<MessageView>, json: (m: MessageView) => object): Generator<MessagePiece> {
  let piece: object[] = [];
  for (const m of messages) {
    const element = json(m);
    const long = isLong(m);
    if (!long) {
      piece.push(element);
      if (piece.length < ELEMENTS_PER_PIECE) continue;
    }
    if (piece.length > 0) yield { text: indentedElements(piece, 2, 2), continues: false };
    piece = [];
    if (!long) continue;
    // A long element (its sections perhaps on disk) is written as they are read, in pieces that continue it.
    let continues = false;
    for (const text of gathered(elementPieces(element, 2, 2))) {
      yield { text, continues };
      continues = true;
    }
  }
  if (piece.length > 0) yield { text: indentedElements(piece, 2, 2), continues: false };
}

/** A piece of the `messages` array: whole elements, from the line break before the first, or (`continues`) more of the last one. */
export interface MessagePiece {
  text: string;
  continues: boolean;
}

function* mapped<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

/**
 * Writes the `fetches --json` document, `{ messages, …rest }`, byte for byte as jsonText(document, 2)
 * would, with the `messages` array arriving in pieces from messageElements (from one capture or several).
 */
export class FetchesJsonWriter {
  private started = false;

  constructor(private readonly write: (text: string) => void) {}

  /** A piece of messageElements: whole elements after those written so far, or more of the element written last. */
  messages(piece: MessagePiece): void {
    if (piece.continues) this.write(piece.text);
    else this.write(this.started ? `,${piece.text}` : `${MESSAGES_OPEN}${piece.text}`);
    this.started = true;
  }

  /**
   * The rest of the document (strategy, warnings, partial) after the last message, in pieces (jsonPieces: a
   * LazyArray in it is made element by element), so that thousands of FETCH commands never become one string.
   */
  *tail(rest: object): Generator<string> {
    let first = true;
    for (const piece of jsonPieces(rest, 2)) {
      // The members continue the document the messages opened: their own opening brace goes.
      yield first ? `${this.started ? '\n  ]' : '{\n  "messages": []'},${piece.slice(1)}` : piece;
      first = false;
    }
    yield '\n';
  }
}
