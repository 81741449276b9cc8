import { analyzeCapture, type CaptureAnalysis } from '../analysis/analyzer.js';
import { RowWriter, type SpilledRows } from '../analysis/connection-rows.js';
import { CommandStats } from '../analysis/stats.js';
import { collectStreams, type StreamsResult } from '../analysis/streams.js';
import type { ReadControl } from '../capture/reader.js';
import type { ImapConnection } from '../imap/model.js';
import { summaryRow } from '../report/summary.js';
import { streamRow } from '../report/streams.js';
import type { RowKind } from '../report/spilled-rows.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
import { closedOnFailure } from '../util/closed-on-failure.js';
import { collectGarbage } from '../util/collect-garbage.js';
import { compileFilterOption } from './display-options.js';
import { Selection } from './selection.js';

/**
 * One capture of `summary` or `streams` with an optional `-Y`, as plain data (it may cross to a worker
 * thread, which compiles the filter again from the text the main thread has checked).
 */
export interface SelectedCapture {
  path: string;
  settings: CaptureSettings;
  filter: string | undefined;
  /** -w: hand back the selected connections for the second pass. */
  keepSelected: boolean;
  /**
   * Write each connection's row of the view (summary, streams) to this file, which must not exist, as the connection
   * closes, instead of keeping the records: during the pass memory holds only the connections not settled yet, and at the
   * end 50 bytes per connection (RowWriter). Not with keepSelected
   * (-w needs the records).
   */
  spill?: { file: string; kind: RowKind };
}

/** The writer of the rows, when they are spilled, and what they are made for. */
function rowWriter(o: SelectedCapture): { writer: RowWriter; kind: RowKind } | null {
  return o.spill && !o.keepSelected ? { writer: new RowWriter(o.spill.file), kind: o.spill.kind } : null;
}

/**
 * The spilled rows once the pass is over (of the connections `keep` accepts). The pass's garbage is collected first:
 * the end phase (overlaps, row order) allocated its tables on top of it, and that was the view's peak (on 300,000
 * closed sessions, `summary --json` 177 → 150 MiB; docs/benchmarks.md).
 */
function finishedRows(spill: { writer: RowWriter } | null, keep?: (id: number) => boolean): SpilledRows | null {
  if (!spill) return null;
  collectGarbage();
  return spill.writer.finish(keep);
}

/**
 * Without spilled rows: keep each selected connection's record once it is drained (whether it is selected is settled
 * then), so that memory grows with the selected connections only. The tracker completes a record it knows is held.
 */
function keepSelected(selection: Selection, into: ImapConnection[]): (c: ImapConnection) => void {
  return (c) => {
    if (selection.selectsDrained(c)) into.push(c);
  };
}

/** Records in the order their connections opened. */
function byId(records: ImapConnection[]): ImapConnection[] {
  return records.sort((a, b) => a.conn.id - b.conn.id);
}

/** The analysis of summary; with a filter, of the matching exchanges and the connections that have one. */
export async function selectedAnalysis(o: SelectedCapture, control: ReadControl = {}): Promise<{ analysis: CaptureAnalysis; selected: ImapConnection[]; rows: SpilledRows | null }> {
  const filter = compileFilterOption(o.filter);
  const selection = new Selection(filter);
  // With a filter, the per-command statistics count the selected exchanges only.
  const stats = new CommandStats();
  const spill = rowWriter(o);
  const kept: ImapConnection[] = [];
  const a = await closedOnFailure(() => spill?.writer.abandon(), analyzeCapture(o.path, {
    ...pipelineOptions(o.settings),
    ...control,
    keepConnections: false,
    onConnectionClose: spill ? (c) => {
      if (selection.mayKeep(c)) spill.writer.add(c.conn, summaryRow(c, spill.kind));
    } : undefined,
    onConnectionSettled: spill?.writer.settle,
    onConnectionDrained: spill ? undefined : keepSelected(selection, kept),
    onFirstFrame: (t) => { selection.t0 = t; },
    onExchange: filter ? (ex, info) => {
      if (!selection.exchange(ex, info)) return;
      stats.add(ex);
    } : undefined,
  }));
  const rows = finishedRows(spill, (id) => selection.keeps(id));
  const selected = byId(kept);
  const analysis = { ...a, connections: selected, ...(filter ? { commandStats: stats } : {}) };
  return { analysis, selected: o.keepSelected ? selected : [], rows };
}

/** The streams view; with a filter (on connection fields), of the connections it selects. */
export async function streamsOfCapture(o: SelectedCapture, control: ReadControl = {}): Promise<{ streams: StreamsResult; selected: ImapConnection[]; rows: SpilledRows | null }> {
  const filter = compileFilterOption(o.filter, { level: 'connection', context: 'streams' });
  const options = { ...pipelineOptions(o.settings), ...control };
  const spill = rowWriter(o);
  if (!filter) {
    const streams = await closedOnFailure(() => spill?.writer.abandon(), collectStreams(o.path, options, spill ? {
      onConnectionClose: (c) => spill.writer.add(c, streamRow(c, spill.kind)),
      onConnectionSettled: spill.writer.settle,
    } : undefined));
    return { streams, selected: [], rows: finishedRows(spill) };
  }
  // Fields such as tls or imap.user need the IMAP dissection, not only TCP.
  const selection = new Selection(filter);
  const kept: ImapConnection[] = [];
  const a = await closedOnFailure(() => spill?.writer.abandon(), analyzeCapture(o.path, {
    ...options,
    onFirstFrame: (t) => { selection.t0 = t; },
    keepConnections: false,
    onConnectionClose: spill ? (c) => {
      if (selection.mayKeep(c)) spill.writer.add(c.conn, streamRow(c.conn, spill.kind));
    } : undefined,
    onConnectionSettled: spill?.writer.settle,
    onConnectionDrained: spill ? undefined : keepSelected(selection, kept),
  }));
  const rows = finishedRows(spill, (id) => selection.keeps(id));
  const selected = byId(kept);
  return { streams: { capture: a.capture, connections: selected.map((c) => c.conn), warnings: a.warnings }, selected: o.keepSelected ? selected : [], rows };
}
