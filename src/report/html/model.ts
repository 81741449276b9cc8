import type { AnalyzeOptions } from '../../analysis/analyzer.js';
import { lifetimesOf, openOverTime, rowTimes, startOrder, type Lifetimes, type RowTimes } from '../../analysis/concurrency.js';
import { readRowPieces, RowWriter } from '../../analysis/connection-rows.js';
import type { SectionFetch } from '../../analysis/fetches.js';
import type { FullAnalysis } from '../../analysis/full.js';
import { latencyMs } from '../../analysis/stats.js';
import type { Comparison } from '../../compare/diff.js';
import { LINKTYPE_NAMES } from '../../decode/decoder.js';
import type { Exchange, ImapConnection } from '../../imap/model.js';
import type { Connection, Side, TimePoint } from '../../tcp/types.js';
import { LazyArray, RawJson, RawJsonPieces } from '../../util/json.js';
import { isoTime, secondsBetween } from '../../util/time.js';
import { uncoveredLeaves, type MessageView } from '../../analysis/message-view.js';
import { endpoint } from '../format.js';
import { clientName } from '../summary.js';
import { commandRows } from '../../analysis/command-rows.js';
import { Ladders, type Ladder, type LadderSpool } from './ladders.js';
import type {
  CaptureData, CommandData, ComparisonData, ConnectionData, MessageData, PartData, SectionFetchData,
} from './data.js';

/**
 * A capture's data as the builder hands it to the page writer: CaptureData, with the connections as their rows'
 * JSON and the chart's steps, made one at a time as the page is written (the rows from where they waited on disk,
 * when they were spilled).
 */
export type CaptureReport = Omit<CaptureData, 'connections' | 'open'> & { connections: LazyArray<RawJson | RawJsonPieces>; open: LazyArray<[number, number]> };

/** What a connection's row leaves for its completion: the times and last frame its close does not settle (the last ACKs move them). */
type ConnectionHead = Omit<ConnectionData, 'start' | 'end' | 'lastFrame'>;

/** Upper bounds of the latency bins (ms), 1-3-10 steps; one more bin holds everything slower. */
export const HISTOGRAM_EDGES_MS = [0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000];

/** Longest wire text kept per field: a page of 100,000 exchanges must stay loadable. */
const MAX_TEXT = 1000;
const MAX_WARNINGS = 1000;
/**
 * Fetched messages embedded per capture (in mailbox, UID order): a folder sync of a 100 MiB capture fetched
 * 166,000, a page of 120 MB that took 1.6 GiB to make; `fetches --json` lists every one.
 */
export const MAX_MESSAGES = 10_000;

export function histogramBin(ms: number): number {
  const i = HISTOGRAM_EDGES_MS.findIndex((edge) => ms < edge);
  return i < 0 ? HISTOGRAM_EDGES_MS.length : i;
}

function clip(s: string): string {
  return s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT)}… (${s.length - MAX_TEXT} more characters)`;
}

/**
 * Exchanges of one connection the page shows: the first half and the last half of this many. A connection that sends
 * 400,000 commands kept them all until it was drained (1 KiB each), and its ladder was a page of its own.
 */
export const LADDER_EXCHANGES = 10_000;

/**
 * Exchanges held for the ladders of connections not yet drained, before they go to the spool (about 0.4 KiB each). At
 * 32,768 they took 13 MiB at their most, and 200,000 idle mail clients' `report` 428 MiB, where it now takes 414; a
 * spill more per 8,192 exchanges costs nothing measurable on the sync mix (whose open connections never hold that many).
 */
export const LADDER_HELD = 8_192;

export interface CollectorOptions {
  /**
   * Write each shown connection's row to this file (which must not exist) once the connection is drained, and keep
   * none of it in memory; absent: the rows are held until the page is written. The file must stay until then.
   */
  rowsFile?: string;
  /** Where the exchanges of connections not yet drained go beyond a budget (LADDER_HELD); absent: they are held. */
  ladderSpool?: LadderSpool;
  /** Whether a drained connection is shown (a -Y selection); absent: every one. */
  shows?(c: ImapConnection): boolean;
}

/**
 * Collects what one capture's report needs while the analysis streams: exchanges (redacted, in a compact
 * form, never the Exchange objects), markers and latency histograms. Each connection's row is made once it is
 * drained (every exchange of it seen) and completed at the end with its settled times; its exchanges are kept
 * until then. Hand `hooks` to the analysis, then call `finish` with its result.
 */
export class CaptureCollector {
  private readonly ladders: Ladders;
  private readonly histograms = new Map<string, number[]>();
  /** The rows of the histograms, by the rule of the per-command figures they join. */
  private readonly commandRows = commandRows();
  /**
   * Times are kept from the first frame's and shifted to the capture's start (its earliest time, known at the end: a
   * clock can step back) when the rows are completed.
   */
  private firstFrame: TimePoint | null = null;
  private exchangeCount = 0;
  private readonly rows: RowWriter | null;
  /** Without a rows file: each shown connection and its row, as drained. */
  private readonly held: { conn: Connection; row: string }[] = [];

  readonly hooks: Pick<AnalyzeOptions, 'onExchange' | 'onMarker' | 'onFirstFrame' | 'onConnectionDrained' | 'onConnectionSettled'>;

  constructor(private readonly options: CollectorOptions = {}) {
    this.rows = options.rowsFile ? new RowWriter(options.rowsFile) : null;
    this.ladders = new Ladders(LADDER_EXCHANGES / 2, options.ladderSpool);
    this.hooks = {
      onFirstFrame: (t) => { this.firstFrame = t; },
      onExchange: (ex, info) => this.exchange(ex, info),
      onMarker: (side, frame, text, info) => this.marker(side, frame, text, info),
      onConnectionDrained: (c) => this.drained(c),
      onConnectionSettled: this.rows?.settle,
    };
  }

  private relative(t: TimePoint | null): number | null {
    if (!t) return null;
    this.firstFrame ??= t;
    return secondsBetween(this.firstFrame, t);
  }

  private exchange(ex: Exchange, info: ImapConnection): void {
    const ms = latencyMs(ex);
    this.exchangeCount++;
    this.ladders.push(info.conn.id, {
      tag: ex.tag, command: ex.command, args: clip(ex.args), status: ex.status, code: ex.code === null ? null : clip(ex.code), text: clip(ex.text),
      requestFrame: ex.requestFrame, responseFrame: ex.responseFrame, start: this.relative(ex.start), end: this.relative(ex.end), latencyMs: ms,
      untagged: ex.untagged, continuations: ex.continuations, requestBytes: ex.requestBytes, responseBytes: ex.responseBytes, requestMissing: ex.requestMissing,
    });
    // Every exchange takes its row, measured or not, as the per-command figures count it.
    const row = this.commandRows.row(ex.command);
    if (ms === null) return;
    let bins = this.histograms.get(row);
    if (!bins) {
      bins = new Array<number>(HISTOGRAM_EDGES_MS.length + 1).fill(0);
      this.histograms.set(row, bins);
    }
    bins[histogramBin(ms)]!++;
  }

  private marker(side: Side | null, frame: number, text: string, info: ImapConnection): void {
    this.ladders.marker(info.conn.id, { frame, side, text });
  }

  /** Every exchange of the connection has been seen: its row is made, and its exchanges go with it. */
  private drained(c: ImapConnection): void {
    const ladder = this.ladders.take(c.conn.id);
    if (this.options.shows && !this.options.shows(c)) return;
    const row = rowPieces(connectionHead(c, ladder), ladder.exchanges);
    if (this.rows) this.rows.add(c.conn, row);
    else this.held.push({ conn: c.conn, row: row.join('') });
  }

  /** The analysis failed: the files this collector writes are closed unfinished. */
  abandon(): void {
    this.rows?.abandon();
    this.ladders.close();
  }

  /**
   * The page's data of one capture. `messages`: the fetched messages in order, as views (default: every one, merged
   * from spilled runs if the tracker spilled; a -Y passes those its exchanges fetched); the page embeds the first
   * `maxMessages` and counts the rest (those the generator counted without making them, and those it made).
   */
  finish(a: FullAnalysis, given?: Iterator<MessageView, number | void>, maxMessages = MAX_MESSAGES): CaptureReport {
    this.ladders.close(); // every connection has been drained
    const messages = given ?? a.fetches.sorted(maxMessages);
    const shown: MessageData[] = [];
    let omitted = 0;
    // Read to the end all the same: the merge removes its runs when done.
    for (let next = messages.next(); ; next = messages.next()) {
      if (next.done) {
        omitted += next.value ?? 0;
        break;
      }
      if (shown.length < maxMessages) shown.push(messageData(next.value));
      else omitted++;
    }
    const cap = a.capture;
    const t0 = cap.first;
    const since = (t: Pick<TimePoint, 'sec' | 'nsec'>) => (t0 ? secondsBetween(t0, t) : 0);
    const shift = this.firstFrame && t0 ? secondsBetween(t0, this.firstFrame) : 0;
    const { lifetimes, rowAt } = this.finishedRows();
    const open = openOverTime(lifetimes);
    // In order of start, then of id (the rows are in id order).
    const order = startOrder(lifetimes);
    return {
      path: cap.path, format: cap.format, gzip: cap.gzip, linkTypes: cap.linkTypes.map((t) => LINKTYPE_NAMES[t] ?? `link type ${t}`),
      frames: cap.frames, start: t0 ? isoTime(t0) : null, end: cap.last ? isoTime(cap.last) : null, spanS: t0 && cap.last ? secondsBetween(t0, cap.last) : 0,
      notice: a.visibility.notice,
      warnings: a.warnings.slice(0, MAX_WARNINGS).map((w) => ({ frame: w.frame, conn: w.conn ?? null, message: clip(w.message) })),
      warningsOmitted: Math.max(0, a.warnings.length - MAX_WARNINGS),
      maxOpen: open.max,
      open: new LazyArray(function* () {
        for (const step of open.steps()) yield [since(step.t), step.open] as [number, number];
      }),
      connections: new LazyArray(function* () {
        let k = 0;
        for (const row of rowAt(order)) yield completedRow(row, rowTimes(lifetimes, order[k++]!), since, shift);
      }),
      commands: a.commandStats.summaries().map((s): CommandData => ({
        ...s, histogram: this.histograms.get(s.command) ?? new Array<number>(HISTOGRAM_EDGES_MS.length + 1).fill(0),
      })),
      messages: shown,
      messagesOmitted: omitted,
      exchangeCount: this.exchangeCount,
    };
  }

  /** The rows made at the drains, in the order of the connections' ids, with their settled lifetimes. */
  private finishedRows(): { lifetimes: Lifetimes; rowAt(order: Uint32Array): Iterable<string | string[]> } {
    if (this.rows) {
      const spilled = this.rows.finish();
      return { lifetimes: spilled.lifetimes, rowAt: (order) => readRowPieces(spilled, order) };
    }
    const held = this.held.sort((x, y) => x.conn.id - y.conn.id);
    return { lifetimes: lifetimesOf(held.map((h) => h.conn)), rowAt: (order) => Array.from(order, (i) => held[i]!.row) };
  }
}

function connectionHead(c: ImapConnection, ladder: Ladder): ConnectionHead {
  const t = c.conn;
  return {
    id: t.id, client: endpoint(t.client), server: endpoint(t.server),
    firstFrame: t.firstFrame, state: t.state, midStream: !t.sawSyn,
    greeting: c.greeting && { frame: c.greeting.frame, status: c.greeting.status, text: clip(c.greeting.text) },
    user: c.user, clientName: clientName(c.clientId), authMechanism: c.authMechanism, cleartextAuth: c.cleartextAuth,
    tls: c.tls && {
      how: c.tls.how, frame: c.tls.frame, version: c.tls.version, cipher: c.tls.cipher, sni: c.tls.sni,
      decrypted: c.tls.decrypted, note: c.tls.decryptionNote, injectedBeforeTls: c.tls.injectedBeforeTls,
    },
    compressFrame: c.compress?.frame ?? null,
    bytes: { client: t.stats.client.bytes, server: t.stats.server.bytes },
    gaps: t.stats.client.gaps + t.stats.server.gaps,
    exchanges: [], // put in as the ladder's text: rowPieces
    omitted: ladder.omitted,
    markers: ladder.markers.sort((x, y) => x.frame - y.frame),
  };
}

const NO_EXCHANGES = '"exchanges":[]';

/**
 * A connection's row as the pieces of its text: its head as JSON with its ladder's exchanges (pieces of their JSON
 * text) in their place, not joined when the row goes to disk. The first `"exchanges":[]` is the member: text off the
 * wire before it is in strings, whose quotes are escaped.
 */
function rowPieces(head: ConnectionHead, exchanges: readonly string[]): string[] {
  const text = JSON.stringify(head);
  const at = text.indexOf(NO_EXCHANGES);
  return [text.slice(0, at), '"exchanges":', ...exchanges, text.slice(at + NO_EXCHANGES.length)];
}

/**
 * A connection's row (its head, as drained) with its settled start, end and last frame, as one compact JSON object.
 * Its exchanges' times count from the first frame: when the capture's start is earlier (a clock stepped back), they
 * are shifted, which needs the row read back (rare); otherwise it is taken as it is.
 */
function completedRow(head: string | string[], times: RowTimes, since: (t: TimePoint) => number, shift: number): RawJson | RawJsonPieces {
  let pieces = typeof head === 'string' ? [head] : head;
  if (shift !== 0) {
    const row = JSON.parse(pieces.join('')) as ConnectionHead;
    for (const ex of row.exchanges) {
      if (ex.start !== null) ex.start += shift;
      if (ex.end !== null) ex.end += shift;
    }
    pieces = [JSON.stringify(row)];
  }
  const last = pieces.length - 1;
  pieces[last] = `${pieces[last]!.slice(0, -1)},"start":${JSON.stringify(since(times.start))},"end":${JSON.stringify(since(times.end))},"lastFrame":${times.lastFrame}}`;
  return pieces.length === 1 ? new RawJson(pieces[0]!, 0) : new RawJsonPieces(pieces);
}

function sectionFetchData(f: SectionFetch): SectionFetchData {
  return {
    conn: f.conn, tag: f.tag, command: f.command, requestFrame: f.requestFrame, frame: f.frame,
    section: clip(f.section), how: f.how, origin: f.origin, bytes: f.bytes, complete: f.complete,
  };
}

/**
 * Sections listed per message, at most (as many as messages listed): the rest are counted (`fetchesOmitted`). A message
 * fetched 100,000 times is a list no one reads, and it would be most of the page and of the report's memory.
 */
export const MAX_FETCHES_SHOWN = 10_000;

export function messageData(m: MessageView, maxFetches = MAX_FETCHES_SHOWN): MessageData {
  const rows = m.parts ?? [];
  const missing = new Set(uncoveredLeaves(rows, (p) => p.leaf, m.fetches));
  const inTree = new Set(rows.map((p) => p.part));
  // A message's sections by the part they name, each part's in the order they came (one pass, not one per part);
  // whole-message sections, and those naming a part the tree lacks (or no tree is known), by themselves.
  const byPart = new Map<string, SectionFetchData[]>();
  const whole: SectionFetchData[] = [];
  let shown = 0;
  for (const f of m.fetches) {
    if (shown === maxFetches) break;
    shown++;
    if (f.part === null || !inTree.has(f.part)) {
      whole.push(sectionFetchData(f));
      continue;
    }
    const list = byPart.get(f.part);
    if (list) list.push(sectionFetchData(f));
    else byPart.set(f.part, [sectionFetchData(f)]);
  }
  const parts: PartData[] = rows.map((p) => ({
    part: p.part, depth: p.depth, type: p.type, encoding: p.encoding, size: p.size, filename: p.filename === null ? null : clip(p.filename),
    enclosed: p.enclosed, notFetched: missing.has(p),
    // A section names its part by number; the enclosed body repeats that number, so it gets none.
    fetches: p.enclosed ? [] : byPart.get(p.part) ?? [],
  }));
  return {
    mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, seq: m.seq,
    date: m.envelope?.date ?? m.internalDate, from: clipOrNull(m.envelope?.from ?? null), subject: clipOrNull(m.envelope?.subject ?? null),
    size: m.size, structureFrom: m.structureFrom, parts, fetches: whole, fetchesOmitted: m.fetches.length - shown,
  };
}

function clipOrNull(s: string | null): string | null {
  return s === null ? null : clip(s);
}

/** Aligned rows listed per connection pair: enough to see where two clients part. */
const MAX_PAIR_ROWS = 500;

/** A comparison as the page is written: its lists made as they are written (a server's captures have a pair per connection). */
export type ComparisonReport = Omit<ComparisonData, 'differences' | 'sameAspects' | 'pairs'> & {
  differences: LazyArray<ComparisonData['differences'][number]>;
  sameAspects: LazyArray<string>;
  pairs: LazyArray<ComparisonData['pairs'][number]>;
};

/** A comparison for the page: each difference in a sentence, and the connection pairs side by side. */
export function comparisonData(c: Comparison): ComparisonReport {
  return {
    a: c.a, b: c.b, same: c.same,
    differences: new LazyArray(function* () {
      for (const d of c.differences) yield { what: d.what, text: clip(d.text) };
    }),
    sameAspects: c.sameAspects,
    pairs: new LazyArray(function* () {
      for (const p of c.pairs) {
        yield {
          a: p.a?.conn ?? null, b: p.b?.conn ?? null, role: p.role, similarity: p.similarity,
          rows: p.rows.first(MAX_PAIR_ROWS).map((r) => ({ mark: r.mark, a: clipOrNull(r.a), b: clipOrNull(r.b) })),
          rowsOmitted: Math.max(0, p.rows.length - MAX_PAIR_ROWS),
        };
      }
    }),
  };
}
