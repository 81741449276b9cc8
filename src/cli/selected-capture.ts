import { analyzeCapture, type CaptureAnalysis } from '../analysis/analyzer.js';
import { CommandStats } from '../analysis/stats.js';
import { collectStreams, type StreamsResult } from '../analysis/streams.js';
import type { ReadControl } from '../capture/reader.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
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
  /** Keep the (selected) exchanges in the analysis (check). */
  keepExchanges?: boolean;
}

/** The analysis of summary and check; with a filter, of the matching exchanges and the connections that have one. */
export async function selectedAnalysis(o: SelectedCapture, control: ReadControl = {}): Promise<{ analysis: CaptureAnalysis; selected: ImapConnection[] }> {
  const filter = compileFilterOption(o.filter);
  const selection = new Selection(filter);
  // With a filter, the per-command statistics count the selected exchanges only.
  const stats = new CommandStats();
  const kept: Exchange[] = [];
  const a = await analyzeCapture(o.path, {
    ...pipelineOptions(o.settings),
    ...control,
    keepExchanges: Boolean(o.keepExchanges) && !filter,
    onFirstFrame: (t) => { selection.t0 = t; },
    onExchange: filter ? (ex, info) => {
      if (!selection.exchange(ex, info)) return;
      stats.add(ex);
      if (o.keepExchanges) kept.push(ex);
    } : undefined,
  });
  const selected = selection.connections(a.connections);
  const analysis = filter ? { ...a, connections: selected, commandStats: stats, ...(o.keepExchanges ? { exchanges: kept } : {}) } : a;
  return { analysis, selected: o.keepSelected ? selected : [] };
}

/** The streams view; with a filter (on connection fields), of the connections it selects. */
export async function streamsOfCapture(o: SelectedCapture, control: ReadControl = {}): Promise<{ streams: StreamsResult; selected: ImapConnection[] }> {
  const filter = compileFilterOption(o.filter, { level: 'connection', context: 'streams' });
  const options = { ...pipelineOptions(o.settings), ...control };
  if (!filter) return { streams: await collectStreams(o.path, options), selected: [] };
  // Fields such as tls or imap.user need the IMAP dissection, not only TCP.
  const selection = new Selection(filter);
  const a = await analyzeCapture(o.path, { ...options, onFirstFrame: (t) => { selection.t0 = t; } });
  const selected = selection.connections(a.connections);
  return { streams: { capture: a.capture, connections: selected.map((c) => c.conn), warnings: a.warnings }, selected: o.keepSelected ? selected : [] };
}
