import { analyzeCapture } from '../analysis/analyzer.js';
import type { Exchange } from '../imap/model.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
import type { TimePoint } from '../tcp/types.js';
import { escapeText } from '../util/escape.js';
import { COMMAND_COLUMNS, exchangeJson, exchangeRow } from './commands.js';
import { jsonWarnings, makeTable, warningLines } from './format.js';

/** Text tables are printed in slices so memory stays flat on huge captures. */
const ROWS_PER_TABLE = 500;

export interface CommandsOfCapture {
  path: string;
  settings: CaptureSettings;
  /** Several captures: rows carry `capture`, tables stand under the path. */
  multi: boolean;
  conn: number | null;
  /** Upper-case command name to keep, or null for all. */
  command: string | null;
  showSecrets: boolean;
  mode: 'text' | 'json' | 'ndjson';
}

/**
 * The `commands` view of one capture, written while it streams: text and NDJSON on 'stdout', JSON array
 * elements on 'row' (the caller joins them), warnings on 'stderr'. Returns the JSON warnings.
 */
export async function commandsOfCapture(o: CommandsOfCapture, emit: (channel: string, text: string) => void): Promise<object[]> {
  const view = { showSecrets: o.showSecrets };
  const keep = (ex: Exchange) => (o.conn === null || ex.conn === o.conn) && (!o.command || ex.command === o.command);
  let rows: string[][] = [];
  let t0: TimePoint | null = null;
  let named = !o.multi;
  const flushTable = () => {
    if (rows.length === 0) return;
    // Several captures: each one's rows stand under its path.
    if (!named) emit('stdout', `${escapeText(o.path)}:\n`);
    named = true;
    const table = makeTable(COMMAND_COLUMNS);
    table.push(...rows);
    emit('stdout', `${table.toString()}\n`);
    rows = [];
  };
  const analysis = await analyzeCapture(o.path, {
    ...pipelineOptions(o.settings),
    connections: o.conn === null ? undefined : (c) => c.id === o.conn,
    onExchange: (ex) => {
      if (!keep(ex)) return;
      const json = () => JSON.stringify({ ...(o.multi ? { capture: o.path } : {}), ...exchangeJson(ex, view) });
      if (o.mode === 'ndjson') emit('stdout', `${json()}\n`);
      else if (o.mode === 'json') emit('row', json());
      else {
        t0 ??= ex.start ?? ex.end;
        rows.push(exchangeRow(ex, t0, view));
        if (rows.length >= ROWS_PER_TABLE) flushTable();
      }
    },
  });
  if (o.mode === 'text') {
    flushTable();
    if (t0 === null) emit('stdout', `${escapeText(o.path)}: no command exchanges\n`);
    if (analysis.visibility.notice) emit('stdout', `${escapeText(o.path)}: ${analysis.visibility.notice}\n`);
    for (const line of warningLines(analysis.warnings, o.path)) emit('stderr', `${line}\n`);
  }
  return jsonWarnings(analysis.warnings).map((w) => (o.multi ? { capture: o.path, ...w } : w));
}
