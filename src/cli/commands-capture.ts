import { analyzeCapture } from '../analysis/analyzer.js';
import type { ReadControl } from '../capture/reader.js';
import { lookupField, type FieldDef } from '../filter/fields.js';
import type { ImapConnection } from '../imap/model.js';
import { COMMAND_COLUMNS, exchangeJson, exchangeRow } from '../report/commands.js';
import { cellText, FieldsWriter } from '../report/fields-output.js';
import { jsonWarnings, makeTable, warningLines } from '../report/format.js';
import { TimeColumn } from '../report/time-format.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
import { escapeText } from '../util/escape.js';
import { jsonText } from '../util/json.js';
import { compileFilterOption, outputChoice, type OutputFlags } from './display-options.js';
import { ConnectionChoice } from './options.js';
import { Selection } from './selection.js';

/** Text tables are printed in slices so memory stays flat on huge captures. */
const ROWS_PER_TABLE = 500;

/** -T csv without -e: the columns of the text table, by field name. */
export const CSV_COLUMNS = ['tcp.stream', 'frame.number', 'frame.time_relative', 'imap.tag', 'imap.command', 'imap.args', 'imap.status',
  'imap.response.code', 'imap.response.text', 'imap.latency', 'imap.untagged'];

/**
 * One capture's `commands` job, as plain data (it may cross to a worker thread, which compiles the
 * filter and the output choice again from the same option texts the main thread has checked).
 */
export interface CommandsOfCapture {
  path: string;
  settings: CaptureSettings;
  /** Several captures: rows carry `capture`, tables stand under the path. */
  multi: boolean;
  /** `--conn` as given, or undefined. */
  conn: string | undefined;
  /** Upper-case command name to keep, or null for all. */
  command: string | null;
  /** `-Y` as given, or undefined. */
  filter: string | undefined;
  showSecrets: boolean;
  flags: OutputFlags;
  /** -w: hand back the selected connections for the second pass. */
  keepSelected: boolean;
}

export interface CommandsCaptureResult {
  /** The capture's warnings as JSON (with `capture` when several). */
  warnings: object[];
  selected: ImapConnection[];
}

/** The columns of -T fields / csv, or null for the text table or JSON. */
export function fieldColumns(shown: ReturnType<typeof outputChoice>): FieldDef[] | null {
  return shown.fields ?? (shown.format === 'csv' ? CSV_COLUMNS.map((n) => lookupField(n)!) : null);
}

/**
 * The `commands` view of one capture, written while it streams: text and NDJSON on 'stdout', JSON array
 * elements on 'row' and -T fields/csv lines on 'record' (the caller opens the document before the first),
 * text warnings on 'stderr'.
 */
export async function commandsOfCapture(o: CommandsOfCapture, emit: (channel: string, text: string) => void, control: ReadControl = {}): Promise<CommandsCaptureResult> {
  const view = { showSecrets: o.showSecrets };
  const shown = outputChoice(o.flags);
  const filter = compileFilterOption(o.filter);
  const conn = o.conn !== undefined ? new ConnectionChoice(o.conn) : null;
  const columns = fieldColumns(shown);
  const fieldsWriter = columns ? new FieldsWriter(columns, shown.fields ? shown.fieldNames : CSV_COLUMNS, shown.layout) : null;
  let rows: string[][] = [];
  let count = 0;
  let named = !o.multi;
  const wanted = o.command;
  const selection = new Selection(filter, wanted ? (ex) => ex.command === wanted : null, conn?.id ?? null, o.keepSelected);
  const time = new TimeColumn(shown.time, () => selection.t0);
  const head = columns && shown.fields ? shown.fieldNames : COMMAND_COLUMNS.map((c) => (c.head === 'time' ? { ...c, head: time.header } : c));
  const flushTable = () => {
    if (rows.length === 0) return;
    // Several captures: each one's rows stand under its path.
    if (!named) emit('stdout', `${escapeText(o.path)}:\n`);
    named = true;
    const table = makeTable(head);
    table.push(...rows);
    emit('stdout', `${table.toString()}\n`);
    rows = [];
  };
  /** -w: the selected connections' records (with -Y, only theirs: whether one is selected is settled once it is drained). */
  const selected: ImapConnection[] = [];
  const analysis = await analyzeCapture(o.path, {
    ...pipelineOptions(o.settings),
    ...control,
    onFirstFrame: (t) => { selection.t0 = t; },
    connections: conn?.accepts,
    // Rows are written as exchanges complete; the records are needed afterwards only for -w.
    keepConnections: false,
    onConnectionDrained: o.keepSelected ? (c) => {
      if (selection.selectsDrained(c)) selected.push(c);
    } : undefined,
    statistics: false, // no view of `commands` shows them
    onExchange: (ex, info) => {
      const when = ex.start ?? ex.end;
      if (!selection.exchange(ex, info)) {
        time.passed(when);
        return;
      }
      count++;
      const json = () => (o.multi ? { capture: o.path, ...exchangeJson(ex, view) } : exchangeJson(ex, view));
      if (shown.format === 'ndjson') emit('stdout', `${jsonText(json())}\n`);
      else if (shown.format === 'json') emit('row', jsonText(json()));
      else if (shown.format === 'fields' || shown.format === 'csv') emit('record', `${fieldsWriter!.row(selection.record(ex, info))}\n`);
      else {
        rows.push(columns ? columns.map((f) => cellText(f, selection.record(ex, info), ',')) : exchangeRow(ex, time.cell(when), view));
        if (rows.length >= ROWS_PER_TABLE) flushTable();
      }
      time.passed(when);
    },
  });
  conn?.requireFound(o.path);
  if (shown.format === 'text') {
    flushTable();
    if (count === 0) emit('stdout', `${escapeText(o.path)}: no command exchanges${filter || wanted ? ' match' : ''}\n`);
    if (analysis.visibility.notice) emit('stdout', `${escapeText(o.path)}: ${analysis.visibility.notice}\n`);
  }
  if (shown.format !== 'json' && shown.format !== 'ndjson') {
    for (const line of warningLines(analysis.warnings, o.path)) emit('stderr', `${line}\n`);
  }
  return {
    warnings: shown.format === 'json' ? jsonWarnings(analysis.warnings).map((w) => (o.multi ? { capture: o.path, ...w } : w)) : [],
    selected: selected.sort((a, b) => a.conn.id - b.conn.id),
  };
}
