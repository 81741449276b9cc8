import { analyzeWithFetches } from '../analysis/full.js';
import { concurrency } from '../analysis/concurrency.js';
import type { FetchedMessage, SectionFetch } from '../analysis/fetches.js';
import { CaptureError, emptyInfo } from '../capture/reader.js';
import type { CaptureInfo, Timestamp, Warning } from '../capture/types.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { partByNumber } from '../mime/bodystructure.js';
import { exchangeJson } from '../report/commands.js';
import { serverSoftware } from '../report/summary.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
import { isoTime, secondsBetween } from '../util/time.js';
import type { Row, TableName, TableRows } from './tables.js';

/** One capture file to turn into rows; its hash and size were taken before (they decide whether it is new). */
export interface CaptureFile {
  path: string;
  sha256: string;
  size: number;
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
    this.counts[table]++;
    this.text[table] += `${JSON.stringify(row)}\n`;
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
 * `emit` as NDJSON while the capture streams (400,000 exchanges held as rows, then as one text, took 1.5 GB);
 * those of captures and warnings come back. A capture that cannot be read at all is a captures row with `error` and
 * a warnings row, never a failed export.
 */
export async function captureRows(file: CaptureFile, settings: CaptureSettings, emit: (table: StreamedTable, text: string) => void): Promise<CaptureRowsResult> {
  const out = new TableText(emit);
  const capture = file.path;
  let info: CaptureInfo = emptyInfo(file.path);
  let maxConcurrent = 0;
  let warnings: Warning[] = [];
  let error: string | null = null;
  try {
    const a = await analyzeWithFetches(file.path, {
      ...pipelineOptions(settings),
      onExchange: (ex) => out.add('exchanges', exchangeRow(capture, ex)),
    });
    info = a.capture;
    warnings = a.warnings;
    for (const c of a.connections) out.add('connections', connectionRow(capture, c));
    maxConcurrent = concurrency(a.connections.map((c) => c.conn)).max;
    for (const m of a.fetches.list()) for (const f of m.fetches) out.add('fetches', fetchRow(capture, m, f));
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    error = err.message;
    warnings = [{ frame: null, message: err.message }];
  }
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

function connectionRow(capture: string, c: ImapConnection): Row {
  const t = c.conn;
  return {
    capture,
    conn: t.id,
    clientIp: t.client.ip,
    clientPort: t.client.port,
    serverIp: t.server.ip,
    serverPort: t.server.port,
    firstFrame: t.firstFrame,
    lastFrame: t.lastFrame,
    startTime: isoTime(t.start),
    endTime: isoTime(t.end),
    durationMs: Math.round(secondsBetween(t.start, t.end) * 1e6) / 1e3,
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
}

/** The exchange as commands --json prints it (credentials redacted), with the times named as columns. */
function exchangeRow(capture: string, ex: Exchange): Row {
  const { start, end, ...rest } = exchangeJson(ex, { showSecrets: false }) as Row;
  return { capture, ...rest, startTime: start, endTime: end };
}

function fetchRow(capture: string, m: FetchedMessage, f: SectionFetch): Row {
  const part = f.part !== null && m.structure ? partByNumber(m.structure, f.part) : null;
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
