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
import { emptyTables, type Row, type TableRows } from './tables.js';

/** One capture file to turn into rows; its hash and size were taken before (they decide whether it is new). */
export interface CaptureFile {
  path: string;
  sha256: string;
  size: number;
}

/**
 * Analyse one capture into the dataset's rows (tables.ts). A capture that cannot be read at all is a
 * captures row with `error` and a warnings row, never a failed export.
 */
export async function captureRows(file: CaptureFile, settings: CaptureSettings): Promise<TableRows> {
  const rows = emptyTables();
  const capture = file.path;
  let info: CaptureInfo = emptyInfo(file.path);
  let connections: ImapConnection[] = [];
  let warnings: Warning[] = [];
  let error: string | null = null;
  try {
    const a = await analyzeWithFetches(file.path, {
      ...pipelineOptions(settings),
      onExchange: (ex) => { rows.exchanges.push(exchangeRow(capture, ex)); },
    });
    info = a.capture;
    connections = a.connections;
    warnings = a.warnings;
    for (const m of a.fetches.list()) for (const f of m.fetches) rows.fetches.push(fetchRow(capture, m, f));
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    error = err.message;
    warnings = [{ frame: null, message: err.message }];
  }
  rows.connections = connections.map((c) => connectionRow(capture, c));
  rows.warnings = warnings.map((w) => ({ capture, conn: w.conn ?? null, frame: w.frame, message: w.message }));
  rows.captures.push({
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
    connections: rows.connections.length,
    exchanges: rows.exchanges.length,
    fetches: rows.fetches.length,
    warnings: rows.warnings.length,
    maxConcurrent: concurrency(connections.map((c) => c.conn)).max,
    error,
  });
  return rows;
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
