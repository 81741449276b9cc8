import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSectionSpec } from '../imap/fetch.js';
import type { SectionSpec } from '../mime/types.js';
import { GatheredWriter } from '../util/gathered-writer.js';
import { detached, Interner } from '../util/intern.js';
import { LineArena } from '../util/line-arena.js';
import { readLines } from '../util/read-lines.js';
import { makeTempDir, type TempDir } from '../util/temp-dir.js';
import type { FetchHow, SectionFetch } from './fetches.js';
import type { FetchList, MessageView, PartView } from './message-view.js';

/**
 * Sorted runs of fetched messages on disk, and their merge: how `fetches --json` lists every message in
 * order while holding only a bounded number of them. The tracker writes what it holds as one sorted run
 * when it holds too much; at the end the runs and what is still held are merged, and the pieces of one
 * message that several runs hold (fetched again after a spill) are combined as the tracker would have
 * combined them in memory. Everything is synchronous: the tracker spills inside the capture's one pass.
 */

/** A message, as the view shows it. */
export interface HeldMessage {
  message: MessageView;
}

/** What the merge order reads of a held message: its identity (mailbox name, UIDVALIDITY, UID or sequence number). */
export interface HeldKey {
  message: Pick<MessageView, 'mailbox' | 'uidValidity' | 'uid' | 'seq'>;
}

/**
 * A message held as its record in a run's encoding (RecordCodec), instead of its objects: the tracker keeps messages
 * it has not met for a while this way, in its runs' arena (MessageRuns.lines). Such a record is written to a run as
 * it is. `line` is a view of the arena, valid until the runs' next spill.
 */
export interface HeldLine extends HeldKey {
  line: Buffer;
}

export type Held = HeldMessage | HeldLine;

/**
 * A run's record while it waits in a merge: its identity read off the line, the rest decoded only when it leaves (a
 * merge holds the next record of every run at once, and each may be a piece of a message of thousands of sections).
 */
interface RunLine extends HeldKey {
  text: string;
}

/** What a merge orders: run records as lines, or messages. */
type Merging = HeldMessage | RunLine;

/**
 * Runs merged at once (bounded open files and buffers: 128 × 64 KiB read windows = 8 MiB, util/read-lines.ts). Runs are merged by levels:
 * when this many runs of one size wait, they become one run of the next level, so every record is rewritten
 * about log_128(runs) times, never once per spill. (At 32, a 100 MiB folder sync's 34 runs were all
 * rewritten once before the final merge, which cost a fifth of `fetches --json`.)
 */
export const MAX_RUNS_MERGED = 128;

/** The order of list(): mailbox name (collated), UIDVALIDITY, UID (none last), sequence number. */
export function byName(a: string, b: string): number {
  return a === b ? 0 : collate(a, b);
}

/** Made on first use: a Collator costs about 10 ms to build, which a command that sorts no mailbox names should not pay at start-up. */
let collator: Intl.Collator | null = null;
function collate(a: string, b: string): number {
  collator ??= new Intl.Collator();
  return collator.compare(a, b);
}

/**
 * The merge order: list()'s order, except that the sequence number only counts for messages without a UID
 * (a message fetched again after a spill may have another one), and mailboxes whose names sort alike are
 * kept apart by boxOrder. The pieces of one message compare equal, and only they.
 */
export function compareHeld(a: HeldKey, b: HeldKey): number {
  const x = a.message;
  const y = b.message;
  return byName(x.mailbox ?? '', y.mailbox ?? '') || (x.uidValidity ?? 0) - (y.uidValidity ?? 0) ||
    (x.uid ?? Number.MAX_SAFE_INTEGER) - (y.uid ?? Number.MAX_SAFE_INTEGER) ||
    (x.uid === null ? x.seq - y.seq : 0) || boxOrder(x, y);
}

/**
 * Between two mailboxes that the order above does not tell apart (names that sort alike, no name and "", UIDVALIDITY
 * none and 0): by the names' own code units, none first; then UIDVALIDITY none first. It needs no table of the
 * mailboxes seen, so the tracker forgets a mailbox once nothing of it is held (a server's capture has one per account).
 */
export function boxOrder(x: Pick<MessageView, 'mailbox' | 'uidValidity'>, y: Pick<MessageView, 'mailbox' | 'uidValidity'>): number {
  if (x.mailbox !== y.mailbox) {
    if (x.mailbox === null) return -1;
    if (y.mailbox === null) return 1;
    return x.mailbox < y.mailbox ? -1 : 1;
  }
  if (x.uidValidity === y.uidValidity) return 0;
  return x.uidValidity === null ? -1 : 1;
}

/**
 * Sections a merged message holds as objects. Past this many, its sections go to a file of their own in the runs'
 * directory, read back as the message is written out (SpooledFetches): one message fetched 100,000 times took
 * 300 MiB as objects and their JSON.
 */
export const MAX_FETCHES_HELD = 4096;

/**
 * One message from two of its pieces, `earlier` recorded before `later`: what FetchTracker.untagged()
 * would have made of the later responses applied to the earlier record (first envelope, size and date
 * win, fetches in order; the first sequence number), as the view shows it. `spool` makes the list on disk
 * that takes the sections once they are more than `held`.
 */
export function combine(earlier: MessageView, later: MessageView, held: number, spool: () => SpooledFetches): MessageView {
  const m = earlier;
  m.envelope ??= later.envelope;
  m.size ??= later.size;
  m.internalDate ??= later.internalDate;
  if (laterTreeWins(m, later)) {
    m.parts = later.parts;
    m.structureFrom = later.structureFrom;
  }
  m.fetches = joinFetches(m.fetches, later.fetches, held, spool);
  return m;
}

/** `earlier`'s sections, then `later`'s: an array up to `held` of them, else on disk. */
function joinFetches(earlier: FetchList, later: FetchList, held: number, spool: () => SpooledFetches): FetchList {
  if (later.length === 0) return earlier;
  if (earlier instanceof SpooledFetches) return earlier.add(later);
  if (earlier.length === 0 && Array.isArray(later) && later.length <= held) return later;
  if (earlier.length + later.length <= held) return Array.isArray(earlier) && Array.isArray(later) ? earlier.concat(later) : [...earlier, ...later];
  return spool().add(earlier).add(later);
}

/**
 * A merged message's sections on disk, one line each (RecordCodec.encodeFetch), in order; walked as often as a view
 * needs (the listings walk them two or three times), each time read back from the file. Removed with the runs'
 * directory.
 */
export class SpooledFetches implements FetchList {
  private writer: GatheredWriter | null;
  private count = 0;

  constructor(readonly path: string, private readonly codec: RecordCodec) {
    this.writer = new GatheredWriter(path);
  }

  get length(): number {
    return this.count;
  }

  /** Append sections (before the list is first walked). */
  add(fetches: Iterable<SectionFetch>): this {
    const writer = this.writer!;
    for (const f of fetches) {
      writer.write(this.codec.encodeFetch(f));
      this.count++;
    }
    return this;
  }

  /** No more sections come: the file is complete (idempotent). */
  seal(): void {
    this.writer?.close();
    this.writer = null;
  }

  *[Symbol.iterator](): Iterator<SectionFetch> {
    this.seal();
    for (const line of readLines(this.path)) yield this.codec.decodeFetch(line);
  }
}

/**
 * Whose tree the message keeps. In memory a BODYSTRUCTURE replaces a tree taken from the message itself,
 * and — when the identity is uncertain (no UID, mailbox or UIDVALIDITY) — an earlier BODYSTRUCTURE too;
 * once certain, the first BODYSTRUCTURE stays (even one that could not be read). A tree parsed from the
 * message only fills a message with none. (Not modelled: a whole message fetched after a BODYSTRUCTURE that
 * could not be read, and another BODYSTRUCTURE after both, in different runs.)
 */
function laterTreeWins(m: MessageView, later: MessageView): boolean {
  if (later.structureFrom === null) return false;
  if (later.structureFrom === 'message') return m.parts === null;
  const certain = m.uid !== null && m.mailbox !== null && m.uidValidity !== null;
  return !certain || m.structureFrom !== 'BODYSTRUCTURE';
}

// ---------------------------------------------------------------------------------------------------------------
// Records: one JSON line per message view, parts and fetches as arrays (a fetch's spec is read again from its section).

/** A text that recurs across records, as its number in the codec's table (or itself once the table is full). */
type Coded = number | string;

/** A fetch's `order`, when it has one, is the row's last element. */
type FetchRow = [number, string | null, Coded, number | null, number, Coded, Coded, number | null, Coded, number, string | null, boolean, string | null, number?];
type PartRow = [string, Coded, Coded | null, number | null, string | null, Coded | null, Coded | null, 0 | 1, number, 0 | 1];
type EnvelopeRow = [string | null, string | null, string | null];
type MessageRow = [string | null, number | null, number | null, number, EnvelopeRow | null, number | null, string | null, MessageView['structureFrom'], PartRow[] | null, FetchRow[]];

/** Section specs parsed once per section text, frozen because every fetch of that section shares one. */
export function sectionSpecs(): Interner<SectionSpec> {
  return new Interner((section) => Object.freeze(parseSectionSpec(section)));
}

/** Sections a line of a run holds, at most (about 60 KiB: within a run reader's window). */
export const SECTIONS_PER_LINE = 512;

/** What a later line of a message of many sections says besides its identity and sections: nothing (combine keeps the first's). */
const NO_MORE = { envelope: null, size: null, internalDate: null, parts: null, structureFrom: null } as const;

/**
 * Texts a codec numbers; later new texts are written out (a hostile capture's every section differs). A folder sync
 * numbers a few dozen; each text numbered keeps its string, its spec and a map entry (about 200 bytes for a header
 * field list), kept to the end: 65,536 of them took the text listing of one message of 200,000 different sections from
 * 165 to 177 MiB.
 */
export const MAX_CODED_TEXTS = 16_384;

/**
 * Held messages as run lines and back. The texts that recur in the records of a whole capture (a fetch's command,
 * item, section and how; a part's type, encoding, charset and disposition) are written as their number in a table
 * the codec keeps: lines are shorter (a third, on a folder sync), and reading one back makes no copy of them and
 * parses each section's spec once. Every line a tracker holds or spills goes through its one codec.
 */
export class RecordCodec {
  private readonly numbers = new Map<string, number>();
  private readonly texts: string[] = [];
  /** Each numbered section's spec (no lookup by its text); sections written out are looked up by text. */
  private readonly specs: (SectionSpec | undefined)[] = [];
  private readonly specsByText = sectionSpecs();
  /** Where decodeKey reads next. */
  private keyAt = 0;

  constructor(private readonly maxTexts = MAX_CODED_TEXTS) {}

  /** A message as one line of a run (newline included). */
  encode(h: HeldMessage): string {
    const m = h.message;
    const e = m.envelope;
    const parts = m.parts?.map((p): PartRow => [p.part, this.code(p.type), this.codeOrNull(p.encoding), p.size, p.filename, this.codeOrNull(p.charset), this.codeOrNull(p.disposition), p.leaf ? 1 : 0, p.depth, p.enclosed ? 1 : 0]) ?? null;
    const fetches: FetchRow[] = [];
    for (const f of m.fetches) fetches.push(this.fetchRow(f));
    const row: MessageRow = [m.mailbox, m.uidValidity, m.uid, m.seq, e ? [e.date, e.subject, e.from] : null, m.size, m.internalDate, m.structureFrom, parts, fetches];
    return `${JSON.stringify(row)}\n`;
  }

  /**
   * A message as lines of a run: one, or for a message of more than SECTIONS_PER_LINE sections, one for each that many,
   * the first with the rest of the message and the others with its identity only. They are its pieces, as the pieces
   * of a message fetched again are: a merge holds the next line of every run, and each stays short.
   */
  encodeLines(h: HeldMessage, write: (line: string) => void): void {
    const m = h.message;
    const fetches = m.fetches;
    if (fetches.length <= SECTIONS_PER_LINE || !Array.isArray(fetches)) {
      write(this.encode(h));
      return;
    }
    const all = fetches as SectionFetch[];
    write(this.encode({ message: { ...m, fetches: all.slice(0, SECTIONS_PER_LINE) } }));
    for (let at = SECTIONS_PER_LINE; at < all.length; at += SECTIONS_PER_LINE) {
      const piece = { ...NO_MORE, mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, seq: m.seq, fetches: all.slice(at, at + SECTIONS_PER_LINE) };
      write(this.encode({ message: piece }));
    }
  }

  /** What the merge order reads of a line of a run (encode), without decoding the rest. */
  decodeKey(line: string): HeldKey['message'] {
    // The row opens with [mailbox, uidValidity, uid, seq, …]: the mailbox a JSON string or null, the others numbers or
    // null. Read by hand: every record of the final merge is read this way first, and JSON.parse of the four took twice
    // as long (343 against 187 ns a line of a folder sync, where decoding the line takes 1.5 µs).
    let mailbox: string | null = null;
    let at = 6; // past `[null,`
    if (line.charCodeAt(1) === 0x22) {
      let end = 2;
      let escaped = false;
      for (let c = line.charCodeAt(end); c !== 0x22 && end < line.length; c = line.charCodeAt(++end)) {
        if (c === 0x5c) {
          end++;
          escaped = true;
        }
      }
      mailbox = escaped ? JSON.parse(line.slice(1, end + 1)) as string : line.slice(2, end);
      at = end + 2;
    }
    this.keyAt = at;
    const uidValidity = this.keyNumber(line);
    const uid = this.keyNumber(line);
    const seq = this.keyNumber(line) as number;
    return { mailbox, uidValidity, uid, seq };
  }

  /** The number or null at keyAt, up to its comma (a number of another form than short digits through JSON.parse). */
  private keyNumber(line: string): number | null {
    const start = this.keyAt;
    let at = start;
    let n = 0;
    let digits = true;
    for (let c = line.charCodeAt(at); c !== 0x2c && at < line.length; c = line.charCodeAt(++at)) {
      if (c < 0x30 || c > 0x39) digits = false;
      n = n * 10 + c - 0x30;
    }
    this.keyAt = at + 1;
    return digits && at > start && at - start < 16 ? n : JSON.parse(line.slice(start, at)) as number | null;
  }

  /** A line of a run (encode) as the message it holds. */
  decode(line: string): HeldMessage {
    const [mailbox, uidValidity, uid, seq, e, size, internalDate, structureFrom, partRows, fetchRows] = JSON.parse(line) as MessageRow;
    const parts = partRows?.map(([part, type, encoding, bytes, filename, charset, disposition, leaf, depth, enclosed]): PartView => ({
      part, type: this.text(type), encoding: this.textOrNull(encoding), size: bytes, filename, charset: this.textOrNull(charset),
      disposition: this.textOrNull(disposition), leaf: leaf === 1, depth, enclosed: enclosed === 1,
    })) ?? null;
    const fetches = fetchRows.map((row) => this.sectionFetch(row));
    const envelope = e ? { date: e[0], subject: e[1], from: e[2] } : null;
    return { message: { mailbox, uidValidity, uid, seq, envelope, size, internalDate, parts, structureFrom, fetches } };
  }

  /** A section as one line of its own (SpooledFetches), newline included. */
  encodeFetch(f: SectionFetch): string {
    return `${JSON.stringify(this.fetchRow(f))}\n`;
  }

  /** A line of encodeFetch as the section it holds. */
  decodeFetch(line: string): SectionFetch {
    return this.sectionFetch(JSON.parse(line) as FetchRow);
  }

  private fetchRow(f: SectionFetch): FetchRow {
    const row: FetchRow = [f.conn, f.tag, this.code(f.command), f.requestFrame, f.frame, this.code(f.item), this.code(f.section), f.origin, this.code(f.how), f.bytes, f.sha256, f.complete, f.part];
    if (f.order !== undefined) row.push(f.order);
    return row;
  }

  private sectionFetch([conn, tag, command, requestFrame, frame, item, section, origin, how, bytes, sha256, complete, part, order]: FetchRow): SectionFetch {
    const f: SectionFetch = {
      conn, tag, command: this.text(command), requestFrame, frame, item: this.text(item), section: this.text(section), spec: this.spec(section),
      origin, how: this.text(how) as FetchHow, bytes, sha256, complete, part,
    };
    if (order !== undefined) f.order = order;
    return f;
  }

  private code(text: string): Coded {
    let n = this.numbers.get(text);
    if (n === undefined) {
      if (this.texts.length >= this.maxTexts) return text;
      n = this.texts.length;
      const own = detached(text);
      this.texts.push(own);
      this.numbers.set(own, n);
    }
    return n;
  }

  private codeOrNull(text: string | null): Coded | null {
    return text === null ? null : this.code(text);
  }

  private text(coded: Coded): string {
    return typeof coded === 'number' ? this.texts[coded]! : coded;
  }

  private textOrNull(coded: Coded | null): string | null {
    return coded === null ? null : this.text(coded);
  }

  private spec(section: Coded): SectionSpec {
    if (typeof section === 'string') return this.specsByText.get(section);
    return this.specs[section] ??= this.specsByText.get(this.texts[section]!);
  }
}

/** Reads a run back, one record at a time, each as its line and identity. */
function* readRun(path: string, codec: RecordCodec): Generator<RunLine> {
  for (const line of readLines(path)) yield { message: codec.decodeKey(line), text: line };
}

/**
 * K-way merge of sorted sources (earlier sources hold earlier pieces). A binary heap on (record, source): equal
 * records leave in source order. With `join`, the pieces of each message are combined into the first one; without,
 * they leave one after another, earliest first (a merged run keeps them apart, so that only the final merge makes a
 * message whole, and it alone needs room for one fetched thousands of times). A run's records wait as their lines:
 * without `join` they go on as read, with it each is decoded as it leaves, so one piece at a time is held as objects.
 */
function mergeSources(sources: Iterator<Merging>[]): Generator<Merging>;
function mergeSources(sources: Iterator<Merging>[], join: (earlier: MessageView, later: MessageView) => void, codec: RecordCodec, decodeFirst: number): Generator<HeldMessage, number>;
function* mergeSources(sources: Iterator<Merging>[], join?: (earlier: MessageView, later: MessageView) => void, codec?: RecordCodec, decodeFirst = Infinity): Generator<Merging, number> {
  const heap: { head: Merging; source: number }[] = [];
  const before = (a: { head: Merging; source: number }, b: { head: Merging; source: number }) => {
    const c = compareHeld(a.head, b.head);
    return c < 0 || (c === 0 && a.source < b.source);
  };
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < heap.length && before(heap[l]!, heap[least]!)) least = l;
      if (r < heap.length && before(heap[r]!, heap[least]!)) least = r;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  };
  sources.forEach((it, source) => {
    const first = it.next();
    if (!first.done) {
      heap.push({ head: first.value, source });
      up(heap.length - 1);
    }
  });
  let current: HeldMessage | null = null;
  /** Messages yielded whole, and then (past `decodeFirst`) the latest piece counted and the messages counted. */
  let yielded = 0;
  let counting: Merging | null = null;
  let counted = 0;
  while (heap.length > 0) {
    const top = heap[0]!;
    const taken = top.head;
    const next = sources[top.source]!.next();
    if (next.done) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        down(0);
      }
    } else {
      top.head = next.value;
      down(0);
    }
    if (!join) {
      yield taken;
      continue;
    }
    if (counting) {
      // Past the messages wanted whole: a message is counted at its first piece, by its identity alone.
      if (compareHeld(counting, taken) !== 0) {
        counted++;
        counting = taken;
      }
      continue;
    }
    if (current && compareHeld(current, taken) === 0) {
      join(current.message, ('text' in taken ? codec!.decode(taken.text) : taken).message);
      continue;
    }
    if (current) {
      yield current;
      yielded++;
    }
    // Messages in one slot are put in order after the merge (inListOrder): the last one wanted takes its slot's others.
    if (yielded >= decodeFirst && (current === null || !sameSlot(current.message, taken.message))) {
      current = null;
      counting = taken;
      counted = 1;
      continue;
    }
    current = 'text' in taken ? codec!.decode(taken.text) : taken;
  }
  if (current) yield current;
  return counted;
}

/** Messages that inListOrder puts in order among themselves: the same UID and UIDVALIDITY, in mailboxes whose names sort alike. */
function sameSlot(a: HeldKey['message'], b: HeldKey['message']): boolean {
  return a.uid !== null && a.uid === b.uid && (a.uidValidity ?? 0) === (b.uidValidity ?? 0) && byName(a.mailbox ?? '', b.mailbox ?? '') === 0;
}

/**
 * The merged messages in list()'s order. The merge order leaves the sequence number out for messages with a
 * UID; it only decides between messages of different mailboxes whose names sort alike with the same
 * UIDVALIDITY and UID, which arrive together and are put in order here.
 */
function* inListOrder(merged: Generator<HeldMessage, number>): Generator<MessageView, number> {
  const bySeq = (a: MessageView, b: MessageView) => a.seq - b.seq || boxOrder(a, b);
  let alike: MessageView[] = [];
  for (let next = merged.next(); ; next = merged.next()) {
    if (next.done) {
      yield* alike.length === 1 ? alike : alike.sort(bySeq);
      return next.value;
    }
    const { message } = next.value;
    if (alike.length > 0 && !sameSlot(alike[0]!, message)) {
      yield* alike.length === 1 ? alike : alike.sort(bySeq);
      alike = [];
    }
    alike.push(message);
  }
}

/** The records in order, each let go as it is taken (the merge need not keep what it has passed); encoded ones decoded. */
function* releasing(records: Held[], codec: RecordCodec): Generator<HeldMessage> {
  for (let i = 0; i < records.length; i++) {
    const h = records[i]!;
    records[i] = undefined as unknown as Held;
    yield 'line' in h ? codec.decode(h.line.toString('utf8')) : h;
  }
}

/**
 * A private directory of sorted runs (made on the first spill in `parent`, removed by dispose(), and at
 * process exit or an ending signal should the process end before: makeTempDir).
 */
export class MessageRuns {
  private dir: TempDir | null = null;
  /** In the order they were written (a merged run takes the place of the runs it merged); levels never grow along it. */
  private readonly runs: { path: string; level: number }[] = [];
  private count = 0;
  private spools = 0;
  /** The newest list on disk: its file is open until a view walks it, the next list is made (its message is whole), or dispose(). */
  private lastSpool: SpooledFetches | null = null;
  /** How this tracker's records are written and read, held lines (HeldLine) included. */
  readonly codec = new RecordCodec();
  /** Where the tracker holds its records as lines (HeldLine) until they are spilled: every spill takes them all. */
  readonly lines = new LineArena();

  /** `fetchesHeld`: sections a merged message holds as objects before they go to a file (MAX_FETCHES_HELD). */
  constructor(private readonly parent: string = tmpdir(), private readonly fetchesHeld = MAX_FETCHES_HELD) {}

  /** Runs written so far (for tests and figures). */
  get written(): number {
    return this.count;
  }

  /** Write the records, sorted, as one run; they must be every line of the arena (which is cleared). */
  spill(held: Held[]): void {
    held.sort(compareHeld);
    this.runs.push({ path: this.write(held), level: 0 });
    this.lines.clear();
    for (;;) {
      const tail = this.runs.slice(-MAX_RUNS_MERGED);
      if (tail.length < MAX_RUNS_MERGED || tail.some((r) => r.level !== tail[0]!.level)) break;
      this.mergeNewest(tail[0]!.level + 1);
    }
  }

  /**
   * Every message, from the runs and the records still held, in list()'s order; the directory is removed when done.
   * With `decodeFirst`, only about that many are made (a few more when the last shares its slot): the others are
   * counted by their identity, read off their lines, and the count is what the generator returns.
   */
  *messages(held: Held[], decodeFirst = Infinity): Generator<MessageView, number> {
    try {
      // Leave room for the held records among the sources read at once.
      while (this.runs.length >= MAX_RUNS_MERGED) this.mergeNewest(this.runs[this.runs.length - MAX_RUNS_MERGED]!.level);
      held.sort(compareHeld);
      const combinePieces = (earlier: MessageView, later: MessageView) => { combine(earlier, later, this.fetchesHeld, () => this.spool()); };
      const sources = [...this.runs.map((r) => readRun(r.path, this.codec)), releasing(held, this.codec)];
      return yield* inListOrder(mergeSources(sources, combinePieces, this.codec, decodeFirst));
    } finally {
      this.dispose();
    }
  }

  /** The newest MAX_RUNS_MERGED runs (consecutive, so order is kept) become one; the pieces of a message stay apart, in order. */
  private mergeNewest(level: number): void {
    const newest = this.runs.splice(-MAX_RUNS_MERGED);
    const path = this.write(mergeSources(newest.map((r) => readRun(r.path, this.codec))));
    for (const r of newest) rmSync(r.path, { force: true });
    this.runs.push({ path, level });
  }

  /** Remove the directory and everything in it (idempotent). */
  dispose(): void {
    this.lastSpool?.seal();
    this.lastSpool = null;
    this.dir?.remove();
    this.dir = null;
    this.runs.length = 0;
  }

  /** A new list on disk for the sections of a message being merged. */
  private spool(): SpooledFetches {
    this.lastSpool?.seal();
    return (this.lastSpool = new SpooledFetches(join(this.directory(), `fetches-${++this.spools}`), this.codec));
  }

  private directory(): string {
    this.dir ??= makeTempDir('imapscope-fetches-', this.parent);
    return this.dir.path;
  }

  private write(records: Iterable<Held | Merging>): string {
    // Records are encoded one by one into the writer's buffer: a string of many records would be a large
    // object, which only a full collection frees.
    const writer = new GatheredWriter(join(this.directory(), `run-${++this.count}`));
    const put = (line: string) => { writer.write(line); };
    try {
      for (const h of records) {
        if ('line' in h) writer.writeOctets(h.line);
        else if ('text' in h) {
          // A run's record goes on as it was read (its newline was not).
          writer.write(h.text);
          writer.write('\n');
        } else this.codec.encodeLines(h, put);
      }
    } finally {
      writer.close();
    }
    return writer.path;
  }
}
