import chalk from 'chalk';
import type { CaptureAnalysis } from '../analysis/analyzer.js';
import { latestUntil, lifetimesOf, lifetimeTime, overlapTable, permuted, startOrder, type Lifetimes, type OverlapTable, type RowTimes } from '../analysis/concurrency.js';
import type { SpilledRows } from '../analysis/connection-rows.js';
import { durationCell, spilledCells, spilledJson, spilledRow, startCell, wholeCells, wholeJson, type RowKind, type RowParts } from './spilled-rows.js';
import type { ImapConnection } from '../imap/model.js';
import { LINKTYPE_NAMES } from '../decode/decoder.js';
import { escapeText } from '../util/escape.js';
import { LazyArray } from '../util/json.js';
import { isoTime, secondsBetween } from '../util/time.js';
import { bytesHuman, endpoint, jsonWarnings, makeTable, paintStatus, seconds } from './format.js';
import { tablePieces, type Cell } from './table.js';
import type { TimePoint } from '../tcp/types.js';

/** "Thunderbird 17.0.8" from an ID list, or null. */
export function clientName(id: Record<string, string | null> | null): string | null {
  if (!id) return null;
  const name = id.name ?? id.vendor ?? null;
  if (!name) return null;
  return id.version ? `${name} ${id.version}` : name;
}

/** The server's own name: from its ID answer, else its greeting text. */
export function serverSoftware(c: ImapConnection): string | null {
  return clientName(c.serverId) ?? (c.greeting?.text || null);
}

function linkTypes(a: CaptureAnalysis): string[] {
  return a.capture.linkTypes.map((t) => LINKTYPE_NAMES[t] ?? `link type ${t}`);
}

/** How a per-connection array of the document is held: whole, or made as it is written. */
type RowsOf = <T>(make: () => Iterable<T>) => T[] | LazyArray<T>;

/** JSON twin of the summary (schema: docs/schema/summary.schema.json), a plain document. */
export function summaryJson(analyses: readonly CaptureAnalysis[]): object {
  return summaryDocument(analyses.map((a) => listing(a)), (make) => [...make()]);
}

/**
 * The same document with its connection rows as a LazyArray: written with jsonPieces it is the same text, and only
 * one row is made at a time. A capture's rows may have been spilled as its connections ended (summaryRow, 'json').
 */
export function summaryJsonStreamed(analyses: readonly CaptureAnalysis[], spilled: readonly (SpilledRows | null)[] = []): object {
  return summaryDocument(analyses.map((a, i) => listing(a, spilled[i])), (make) => new LazyArray(make));
}

/** A connection's summary row, serialised at its close (a listing of spilled rows reads it back and completes it). */
export function summaryRow(c: ImapConnection, kind: RowKind): string {
  return spilledRow(ROW, kind, c);
}

/** One capture's connections as the summary lists them: the analysis's records, or the rows spilled as they ended. */
interface Listing {
  analysis: CaptureAnalysis;
  /** In the order the connections opened. */
  lifetimes: Lifetimes;
  /** JSON rows, in the order the connections opened. */
  json(capture: string | undefined): Iterable<object>;
  /** Text rows in `order` (indices into lifetimes). */
  text(order: ArrayLike<number>): Iterable<readonly Cell[]>;
}

function listing(a: CaptureAnalysis, rows?: SpilledRows | null): Listing {
  if (rows) {
    return {
      analysis: a,
      lifetimes: rows.lifetimes,
      // The capture was written into the JSON rows.
      json: () => spilledJson(rows, ROW),
      text: (order) => spilledCells(rows, ROW, a.capture.first, order),
    };
  }
  const conns = a.connections;
  return {
    analysis: a,
    lifetimes: lifetimesOf(conns.map((c) => c.conn)),
    json: (capture) => mapped(conns, (c) => connectionJson(c, capture)),
    text: (order) => mapped(Array.from(order), (i) => connectionRow(conns[i]!, a.capture.first)),
  };
}

function* mapped<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

function summaryDocument(listings: readonly Listing[], rows: RowsOf): object {
  const analyses = listings.map((l) => l.analysis);
  const multi = analyses.length > 1;
  const overlaps = listings.map((l) => overlapTable(l.lifetimes));
  return {
    captures: analyses.map((a) => ({
      path: a.capture.path, format: a.capture.format, gzip: a.capture.gzip, linkTypes: linkTypes(a), frames: a.capture.frames,
      start: a.capture.first ? isoTime(a.capture.first) : null, end: a.capture.last ? isoTime(a.capture.last) : null,
    })),
    connections: rows(function* () {
      for (const l of listings) yield* l.json(multi ? l.analysis.capture.path : undefined);
    }),
    concurrency: multi
      ? { max: Math.max(0, ...overlaps.map((t) => t.max)), perCapture: rows(() => overlaps.map((t) => concurrencyJson(t, rows))) }
      : concurrencyJson(overlaps[0] ?? overlapTable(lifetimesOf([])), rows),
    commands: multi ? analyses.map((a) => a.commandStats.summaries()) : analyses[0]?.commandStats.summaries() ?? [],
    idle: multi ? analyses.map((a) => a.turnStats.idle()) : analyses[0]?.turnStats.idle() ?? null,
    turns: multi ? analyses.map((a) => a.turnStats.turnSummaries()) : analyses[0]?.turnStats.turnSummaries() ?? [],
    visibility: multi ? analyses.map((a) => a.visibility) : analyses[0]?.visibility ?? null,
    warnings: analyses.flatMap((a) => jsonWarnings(a.warnings).map((w) => (multi ? { capture: a.capture.path, ...w } : w))),
  };
}

/** concurrency() as the document has it, its overlaps made one at a time when they are written. */
function concurrencyJson(table: OverlapTable, rows: RowsOf): object {
  return {
    max: table.max,
    overlaps: rows(function* () {
      for (let i = 0; i < table.size; i++) yield table.overlap(i);
    }),
  };
}

function connectionJson(c: ImapConnection, capture?: string): object {
  return wholeJson(ROW, c, c.conn, capture);
}

export function summaryText(a: CaptureAnalysis): string {
  return [...summaryTextPieces(a)].join('');
}

/** summaryText() in pieces, for writing as they are made: the connection table is never held whole. */
export function* summaryTextPieces(a: CaptureAnalysis, spilled?: SpilledRows | null): Generator<string> {
  const cap = a.capture;
  const span = cap.first && cap.last ? seconds(secondsBetween(cap.first, cap.last)) : 'empty';
  yield chalk.bold(`${escapeText(cap.path)}: ${cap.format}${cap.gzip ? ' (gzip)' : ''}, ${linkTypes(a).join(', ')}, ${cap.frames} frames, ${span}` +
    (cap.first ? ` from ${isoTime(cap.first)}` : ''));
  if (a.visibility.notice) yield `\n${chalk.yellow(escapeText(a.visibility.notice))}`;
  const list = listing(a, spilled);
  const order = startOrder(list.lifetimes);
  yield '\n';
  yield* tablePieces(CONNECTION_COLUMNS, () => list.text(order));
  yield `\n${concurrencyText(permuted(list.lifetimes, order))}`;
  const cmds = makeTable([{ head: 'command', shrink: 1 }, 'count', 'OK', 'NO', 'BAD', 'incomplete', 'median', 'p95']);
  for (const s of a.commandStats.summaries()) {
    cmds.push([escapeText(s.command), s.count, s.ok, countPaint(s.no, 'NO'), countPaint(s.bad, 'BAD'), countPaint(s.incomplete, 'incomplete'), s.medianMs !== null ? `${s.medianMs.toFixed(1)} ms` : '', s.p95Ms !== null ? `${s.p95Ms.toFixed(1)} ms` : '']);
  }
  yield `\n${cmds.toString()}`;
  for (const line of turnLines(a)) yield `\n${line}`;
  yield '\n';
}

export const CONNECTION_COLUMNS = ['id', { head: 'client', shrink: 2 }, 'start', 'duration', { head: 'user', shrink: 2 }, { head: 'client name', shrink: 3 }, 'cmds', 'C→S', 'S→C', { head: 'end', shrink: 1 }, { head: 'notes', shrink: 4 }];

/** One connection's row of the text table (t0: the capture's first frame). */
export function connectionRow(c: ImapConnection, t0: TimePoint | null): Cell[] {
  return wholeCells(ROW, c, c.conn, t0);
}

/** The summary's connection row; its JSON fields and its columns (CONNECTION_COLUMNS) as they are made. */
const ROW: RowParts<ImapConnection> = {
  jsonHead: (c, capture) => ({
    ...(capture !== undefined ? { capture } : {}),
    id: c.conn.id,
    client: c.conn.client,
    server: c.conn.server,
    firstFrame: c.conn.firstFrame,
  }),
  jsonTimes: (t: RowTimes) => ({
    lastFrame: t.lastFrame,
    start: isoTime(t.start),
    end: isoTime(t.end),
    durationMs: Math.round(secondsBetween(t.start, t.end) * 1e6) / 1e3,
  }),
  jsonTail: (c) => {
    const t = c.conn;
    return {
      state: t.state,
      midStream: !t.sawSyn,
      bytes: { client: t.stats.client.bytes, server: t.stats.server.bytes },
      user: c.user,
      authMechanism: c.authMechanism,
      authenticated: c.authenticated,
      cleartextAuth: c.cleartextAuth,
      clientId: c.clientId,
      serverId: c.serverId,
      greeting: c.greeting,
      capabilities: c.capabilities,
      tls: c.tls,
      compress: c.compress !== null,
      serverSoftware: serverSoftware(c),
      mailboxes: c.mailboxes,
      commands: c.commands,
      unsolicited: c.unsolicited,
      selected: c.selected?.name ?? null,
    };
  },
  cells: (c) => {
    const t = c.conn;
    const notes: string[] = [];
    if (c.tls) {
      const how = c.tls.how === 'starttls' ? ' (STARTTLS)' : '';
      const state = c.tls.decrypted ? ', decrypted' : c.tls.decryptionNote ? chalk.yellow(`, not decrypted: ${escapeText(c.tls.decryptionNote)}`) : ', encrypted';
      notes.push(`${c.tls.version ?? 'TLS'}${how}${c.tls.cipher ? ` ${c.tls.cipher}` : ''}${c.tls.sni ? ` SNI ${escapeText(c.tls.sni)}` : ''}${state}`);
      if (c.tls.injectedBeforeTls) notes.push(chalk.red('data injected before TLS'));
    }
    if (c.compress) notes.push('COMPRESS');
    if (c.cleartextAuth) notes.push(chalk.red('clear-text auth'));
    if (!t.sawSyn) notes.push('mid-stream');
    if (t.stats.client.gaps + t.stats.server.gaps > 0) notes.push(`${t.stats.client.gaps + t.stats.server.gaps} gap(s)`);
    return [
      t.id, endpoint(t.client), '', '',
      escapeText(c.user ?? ''), escapeText(clientName(c.clientId) ?? ''), c.commands,
      bytesHuman(t.stats.client.bytes), bytesHuman(t.stats.server.bytes), t.state, notes.join(', '),
    ];
  },
  fillCells: (cells, t, t0) => {
    cells[2] = startCell(t0, t.start);
    cells[3] = durationCell(t);
  },
};

/** A non-zero NO / BAD / incomplete count in its status's colour. */
function countPaint(n: number, status: string): string {
  return n > 0 ? paintStatus(status, String(n)) : String(n);
}

/** IDLE on its own, and the client's share of APPEND and AUTHENTICATE: waits that are not latency. */
function turnLines(a: CaptureAnalysis): string[] {
  const lines: string[] = [];
  const idle = a.turnStats.idle();
  if (idle.count > 0) {
    const pushed = Object.entries(idle.pushed).map(([type, n]) => `${n} ${escapeText(type)}`).join(', ') || 'nothing';
    const reaction = idle.reactionToDoneMs === null ? '' :
      `; the client sent DONE ${ms(idle.reactionToDoneMs)} after the first push` +
      (idle.reactionToNextCommandMs === null ? '' : ` and its next command ${ms(idle.reactionToNextCommandMs)} after it`) + ' (medians)';
    lines.push(`IDLE: ${idle.count} period(s), idle for median ${ms(idle.medianMs)}, longest ${ms(idle.longestMs)}; pushed while idling: ${pushed}${reaction}.`);
  }
  for (const t of a.turnStats.turnSummaries()) {
    if (t.withContinuation === 0) continue;
    const client = t.command === 'AUTHENTICATE' ? `${t.roundTrips} challenge(s), the client answering in ${ms(t.clientMs)}` : `the upload took ${ms(t.clientMs)}`;
    lines.push(`${escapeText(t.command)}: ${t.withContinuation} of ${t.count} waited for "+" (median ${ms(t.continuationMs)}); then ${client} (medians; not counted as latency).`);
  }
  return lines;
}

function ms(value: number | null): string {
  return value === null ? '?' : `${value.toFixed(1)} ms`;
}

/** Max concurrency and a small Gantt chart: one row per connection (in order of start) over the capture's time span. */
function concurrencyText(conns: Lifetimes): string {
  const overlaps = overlapTable(conns);
  const lines = [`Concurrency: at most ${overlaps.max} IMAP connection(s) open at once.`];
  if (conns.size === 0) return lines[0]!;
  const first = lifetimeTime(conns, 0);
  const last = latestUntil(conns);
  const span = Math.max(secondsBetween(first, last), 1e-9);
  const width = 50;
  // Columns stay inside the bar whatever the times say (a capture's timestamps can run backwards; String.repeat
  // of a negative or huge count threw, and took the whole summary with it).
  const column = (x: number) => Math.min(width - 1, Math.max(0, x));
  for (let i = 0; i < Math.min(conns.size, 40); i++) {
    const from = column(Math.floor((secondsBetween(first, lifetimeTime(conns, i)) / span) * (width - 1)));
    const to = column(Math.max(from, Math.ceil((secondsBetween(first, lifetimeTime(conns, i, true)) / span) * (width - 1))));
    const bar = ' '.repeat(from) + '█'.repeat(to - from + 1) + ' '.repeat(Math.max(0, width - to - 1));
    const o = overlaps.overlap(i);
    const shown = o.with.slice(0, 8);
    const more = o.count > shown.length ? ` (+${o.count - shown.length} more)` : '';
    lines.push(`  ${String(o.conn).padStart(4)} |${bar}| ${o.count ? `overlaps ${shown.join(', ')}${more}` : 'alone'}`);
  }
  if (conns.size > 40) lines.push(`  … ${conns.size - 40} more`);
  return lines.join('\n');
}
