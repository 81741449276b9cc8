import { join } from 'node:path';
import { analyzeWithFetches } from '../analysis/full.js';
import { overlapTable, rowTimes, type RowTimes } from '../analysis/concurrency.js';
import { readRows, RowWriter } from '../analysis/connection-rows.js';
import type { SectionFetch } from '../analysis/fetches.js';
import type { MessageView, PartView } from '../analysis/message-view.js';
import { partsByNumber } from '../mime/bodystructure.js';
import { CaptureError, emptyInfo, type ReadControl } from '../capture/reader.js';
import type { CaptureInfo, Timestamp, Warning } from '../capture/types.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { exchangeJson } from '../report/commands.js';
import { serverSoftware } from '../report/summary.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
import { makeTempDir } from '../util/temp-dir.js';
import { isoTime, secondsBetween } from '../util/time.js';
import type { Row, TableName, TableRows } from './tables.js';

/** One capture file to turn into rows; its hash and size were taken before (they decide whether it is new). */
export interface CaptureFile {
  path: string;
  sha256: string;
  size: number;
}

/**
 * Where a capture's rows wait while it is analysed, and how much of them is held: the connections' rows are written at
 * each close and the fetched messages spilled as sorted runs (FetchTracker's `spill`), both in a private directory made
 * in `dir` (export gives the dataset's temporary directory: nothing is written outside --out), with at most `budget`
 * messages and sections held. Plain data: it crosses to a worker thread.
 */
export interface RowsScratch {
  dir: string;
  budget: number;
}

/** Rows of the long tables, handed on as NDJSON text while the capture streams; the rest come back whole. */
export const STREAMED_TABLES = ['connections', 'exchanges', 'fetches'] as const satisfies readonly TableName[];
type StreamedTable = typeof STREAMED_TABLES[number];

/** What captureRows gives back: the rows of the short tables, and how many rows it handed on of the others. */
export interface CaptureRowsResult {
  rows: Pick<TableRows, 'captures' | 'warnings'>;
  streamed: Record<StreamedTable, number>;
}

/** Characters of NDJSON gathered per table before they are handed on. */
const TEXT_CHUNK = 64 * 1024;

/** NDJSON lines per table, handed on (`emit(table, text)`) in chunks, and counted. */
class TableText {
  private readonly text: Record<StreamedTable, string> = { connections: '', exchanges: '', fetches: '' };
  readonly counts: Record<StreamedTable, number> = { connections: 0, exchanges: 0, fetches: 0 };

  constructor(private readonly emit: (table: StreamedTable, text: string) => void) {}

  add(table: StreamedTable, row: Row): void {
    this.addText(table, JSON.stringify(row));
  }

  /** A row already serialised (one line of JSON, without its newline). */
  addText(table: StreamedTable, json: string): void {
    this.counts[table]++;
    this.text[table] += `${json}\n`;
    if (this.text[table].length >= TEXT_CHUNK) this.flush(table);
  }

  flush(table: StreamedTable): void {
    if (this.text[table] === '') return;
    this.emit(table, this.text[table]);
    this.text[table] = '';
  }
}

/**
 * Analyse one capture into the dataset's rows (tables.ts). The rows of connections, exchanges and fetches go to
 * `emit` as NDJSON while the capture streams (400,000 exchanges held as rows, then as one text, took 1.5 GB), or, for
 * connections and fetches, once it has been read, from where they waited (`scratch`): memory is bounded by the
 * connections open at once, not by the capture's sessions or messages (a 200 MiB folder sync took 619 MiB when every
 * record was held). Those of captures and warnings come back. A capture that cannot be read at all is a captures row
 * with `error` and a warnings row, never a failed export.
 */
export async function captureRows(file: CaptureFile, settings: CaptureSettings, emit: (table: StreamedTable, text: string) => void, scratch: RowsScratch, control: ReadControl = {}): Promise<CaptureRowsResult> {
  const out = new TableText(emit);
  const capture = file.path;
  let info: CaptureInfo = emptyInfo(file.path);
  let maxConcurrent = 0;
  let warnings: Warning[] = [];
  let error: string | null = null;
  const dir = makeTempDir('imapscope-rows-', scratch.dir);
  let writer: RowWriter | null = null;
  try {
    const connections = (writer = new RowWriter(join(dir.path, 'connections')));
    const a = await analyzeWithFetches(file.path, {
      ...pipelineOptions(settings),
      signal: control.signal, // Ctrl-C: reading stops; export then adds nothing of the batch
      keepConnections: false,
      statistics: false,
      onExchange: (ex) => out.add('exchanges', exchangeRow(capture, ex)),
      onConnectionClose: (c) => connections.add(c.conn, connectionRowAtClose(capture, c)),
      onConnectionSettled: connections.settle,
    }, { spill: { budget: scratch.budget, dir: dir.path }, steps: false, stepUids: false });
    try {
      info = a.capture;
      warnings = a.warnings;
      const rows = connections.finish();
      // After Ctrl-C export adds nothing of the batch: nothing more is made of what was read.
      if (!control.signal?.aborted) {
        let i = 0;
        for (const text of readRows(rows)) out.addText('connections', completedConnectionRow(text, rowTimes(rows.lifetimes, i++)));
        maxConcurrent = overlapTable(rows.lifetimes).max;
        for (const m of a.fetches.sorted()) {
          const parts = partsByNumber(m.parts ?? []);
          for (const f of m.fetches) out.add('fetches', fetchRow(capture, m, f, parts));
        }
      }
      for (const table of STREAMED_TABLES) out.flush(table);
    } finally {
      a.fetches.dispose();
    }
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    error = err.message;
    warnings = [{ frame: null, message: err.message }];
  } finally {
    writer?.abandon(); // a capture that could not be read at all: its files were never finished
    dir.remove();
  }
  // What a capture that could not be read to its end gave (its rows came before the error).
  for (const table of STREAMED_TABLES) out.flush(table);
  const warningRows = warnings.map((w) => ({ capture, conn: w.conn ?? null, frame: w.frame, message: w.message }));
  const captureRow = {
    capture,
    sha256: file.sha256,
    size: file.size,
    format: info.format,
    gzip: info.gzip,
    linkTypes: info.linkTypes.map(String),
    frames: info.frames,
    startTime: time(info.first),
    endTime: time(info.last),
    spanSeconds: info.first && info.last ? secondsBetween(info.first, info.last) : null,
    connections: out.counts.connections,
    exchanges: out.counts.exchanges,
    fetches: out.counts.fetches,
    warnings: warningRows.length,
    maxConcurrent,
    error,
  };
  return { rows: { captures: [captureRow], warnings: warningRows }, streamed: out.counts };
}

function time(t: Timestamp | null): string | null {
  return t ? isoTime(t) : null;
}

/**
 * A connection's row at its close, as two JSON objects on two lines: the fields before those the close does not settle
 * (its last frame and end move with the last ACKs, RowWriter.settle), and those after. completedConnectionRow puts them
 * together with the settled ones, in the order of the table's columns.
 */
function connectionRowAtClose(capture: string, c: ImapConnection): string {
  const t = c.conn;
  const before: Row = {
    capture,
    conn: t.id,
    clientIp: t.client.ip,
    clientPort: t.client.port,
    serverIp: t.server.ip,
    serverPort: t.server.port,
    firstFrame: t.firstFrame,
  };
  const after: Row = {
    state: t.state,
    midStream: !t.sawSyn,
    clientBytes: t.stats.client.bytes,
    serverBytes: t.stats.server.bytes,
    clientGapBytes: t.stats.client.gapBytes,
    serverGapBytes: t.stats.server.gapBytes,
    user: c.user,
    authMechanism: c.authMechanism,
    authenticated: c.authenticated,
    cleartextAuth: c.cleartextAuth,
    clientName: c.clientId?.name ?? c.clientId?.vendor ?? null,
    clientVersion: c.clientId?.version ?? null,
    serverSoftware: serverSoftware(c),
    tlsHow: c.tls?.how ?? null,
    tlsVersion: c.tls?.version ?? null,
    tlsCipher: c.tls?.cipher ?? null,
    tlsSni: c.tls?.sni ?? null,
    tlsDecrypted: c.tls ? c.tls.decrypted : null,
    compress: c.compress !== null,
    commands: c.commands,
    capabilities: c.capabilities,
    selected: c.selected?.name ?? null,
  };
  return `${JSON.stringify(before)}\n${JSON.stringify(after)}`;
}

/** The row written at the close (connectionRowAtClose) with its settled times: one JSON object, as JSON.stringify writes it. */
function completedConnectionRow(atClose: string, times: RowTimes): string {
  const cut = atClose.indexOf('\n');
  const settled = JSON.stringify({
    lastFrame: times.lastFrame,
    startTime: isoTime(times.start),
    endTime: isoTime(times.end),
    durationMs: Math.round(secondsBetween(times.start, times.end) * 1e6) / 1e3,
  });
  return `${atClose.slice(0, cut - 1)},${settled.slice(1, -1)},${atClose.slice(cut + 2)}`;
}

/** The exchange as commands --json prints it (credentials redacted), with the times named as columns. */
function exchangeRow(capture: string, ex: Exchange): Row {
  const { start, end, ...rest } = exchangeJson(ex, { showSecrets: false }) as Row;
  return { capture, ...rest, startTime: start, endTime: end };
}

/** A fetched section's row; its part's type from the message's tree (`parts`: the first node of each number, as partByNumber finds it). */
function fetchRow(capture: string, m: MessageView, f: SectionFetch, parts: ReadonlyMap<string, PartView>): Row {
  const part = f.part !== null ? parts.get(f.part) : undefined;
  return {
    capture,
    conn: f.conn,
    tag: f.tag,
    command: f.command,
    requestFrame: f.requestFrame,
    frame: f.frame,
    mailbox: m.mailbox,
    uidValidity: m.uidValidity,
    uid: m.uid,
    seq: m.seq,
    item: f.item,
    section: f.section,
    part: f.part,
    partType: part?.type ?? null,
    how: f.how,
    origin: f.origin,
    bytes: f.bytes,
    sha256: f.sha256,
    complete: f.complete,
  };
}
