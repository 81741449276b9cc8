import type { Command } from 'commander';
import { jsonText } from '../../util/json.js';
import { analyzeCapture } from '../../analysis/analyzer.js';
import { COMMAND_COLUMNS, exchangeJson, exchangeRow } from '../../report/commands.js';
import { jsonWarnings, makeTable, writeWarnings } from '../../report/format.js';
import { cellText, FieldsWriter } from '../../report/fields-output.js';
import { TimeColumn } from '../../report/time-format.js';
import { lookupField, type FieldDef } from '../../filter/fields.js';
import { escapeText } from '../../util/escape.js';
import { ConnectionChoice, captureSettings } from '../options.js';
import { output } from '../output.js';
import { captureOptions } from '../program.js';
import { compileFilterOption, filterOption, outputChoice, outputOptions, type OutputFlags } from '../display-options.js';
import { Selection } from '../selection.js';
import { planWrite, runWrite, writeOptions, type WriteFlags } from '../write-options.js';

/** Text tables are printed in slices so memory stays flat on huge captures. */
const ROWS_PER_TABLE = 500;

/** -T csv without -e: the columns of the text table, by field name. */
const CSV_COLUMNS = ['tcp.stream', 'frame.number', 'frame.time_relative', 'imap.tag', 'imap.command', 'imap.args', 'imap.status',
  'imap.response.code', 'imap.response.text', 'imap.latency', 'imap.untagged'];

interface CommandsOptions extends OutputFlags, WriteFlags {
  conn?: string;
  command?: string;
  filter?: string;
  showSecrets?: boolean;
  port: string;
  keylog?: string[];
}

export function registerCommands(program: Command): void {
  const cmd = program.command('commands')
    .description('one row per command exchange: request frame, tag, command, arguments, status, response, latency, untagged count')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .option('--conn <id>', 'only this connection (tcp.stream id)')
    .option('--command <name>', 'only this command (e.g. FETCH, "UID FETCH"; case-insensitive)');
  filterOption(cmd);
  outputOptions(cmd, ['text', 'json', 'ndjson', 'fields', 'csv'])
    .option('--json', 'JSON output, written as the capture streams (schema: docs/schema/commands.schema.json)')
    .option('--ndjson', 'one JSON object per line, written as the capture streams')
    .option('--show-secrets', 'show passwords and SASL payloads instead of ***');
  writeOptions(cmd);
  captureOptions(cmd).action(async (captures: string[], opts: CommandsOptions) => {
    const settings = captureSettings(opts);
    const conn = opts.conn !== undefined ? new ConnectionChoice(opts.conn) : null;
    const wanted = opts.command?.toUpperCase().replace(/\s+/g, ' ');
    const filter = compileFilterOption(opts.filter);
    const shown = outputChoice(opts);
    const write = planWrite(opts, captures, conn !== null || filter !== null);
    const view = { showSecrets: Boolean(opts.showSecrets) };
    const out = output;
    const columns: FieldDef[] | null = shown.fields ?? (shown.format === 'csv' ? CSV_COLUMNS.map((n) => lookupField(n)!) : null);
    const fieldsWriter = columns ? new FieldsWriter(columns, shown.fields ? shown.fieldNames : CSV_COLUMNS, shown.layout) : null;
    // The document (JSON, or the fields header) opens with its first exchange, so that a usage error (--conn) leaves stdout empty.
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      if (shown.format === 'json') out.write('{"exchanges":[');
      else if (fieldsWriter && shown.format !== 'text') {
        const header = fieldsWriter.header();
        if (header !== null) out.write(`${header}\n`);
      }
    };
    let first = true;
    const allWarnings = [];
    for (const [, path] of output.inputs(captures)) {
      let rows: string[][] = [];
      let count = 0;
      let named = captures.length === 1;
      const selection = new Selection(filter, wanted ? (ex) => ex.command === wanted : null, conn?.id ?? null);
      const time = new TimeColumn(shown.time, () => selection.t0);
      const head = columns && shown.fields ? shown.fieldNames : COMMAND_COLUMNS.map((c) => (c.head === 'time' ? { ...c, head: time.header } : c));
      const flushTable = () => {
        if (rows.length === 0) return;
        // Several captures: each one's rows stand under its path.
        if (!named) out.write(`${escapeText(path)}:\n`);
        named = true;
        const table = makeTable(head);
        table.push(...rows);
        out.write(`${table.toString()}\n`);
        rows = [];
      };
      const analysis = await analyzeCapture(path, {
        ...settings,
        onFirstFrame: (t) => { selection.t0 = t; },
        connections: conn?.accepts,
        onExchange: (ex, info) => {
          const when = ex.start ?? ex.end;
          if (!selection.exchange(ex, info)) {
            time.passed(when);
            return;
          }
          count++;
          const json = () => ({ ...(captures.length > 1 ? { capture: path } : {}), ...exchangeJson(ex, view) });
          if (shown.format === 'ndjson') out.write(`${jsonText(json())}\n`);
          else if (shown.format === 'json') {
            open();
            out.write(`${first ? '\n' : ',\n'}${jsonText(json())}`);
            first = false;
          } else if (shown.format === 'fields' || shown.format === 'csv') {
            open();
            out.write(`${fieldsWriter!.row(selection.record(ex, info))}\n`);
          } else {
            rows.push(columns ? columns.map((f) => cellText(f, selection.record(ex, info), ',')) : exchangeRow(ex, time.cell(when), view));
            if (rows.length >= ROWS_PER_TABLE) flushTable();
          }
          time.passed(when);
        },
      });
      conn?.requireFound(path);
      if (shown.format === 'text') {
        flushTable();
        if (count === 0) out.write(`${escapeText(path)}: no command exchanges${filter || wanted ? ' match' : ''}\n`);
        if (analysis.visibility.notice) out.write(`${escapeText(path)}: ${analysis.visibility.notice}\n`);
      }
      if (shown.format === 'json') allWarnings.push(...jsonWarnings(analysis.warnings).map((w) => (captures.length > 1 ? { capture: path, ...w } : w)));
      else if (shown.format !== 'ndjson') writeWarnings(analysis.warnings, path);
      if (write) await runWrite(write, path, selection.connections(analysis.connections), settings);
    }
    open();
    if (shown.format === 'json') out.write(`\n],"warnings":${jsonText(allWarnings)}${output.interrupted ? ',"partial":true' : ''}}\n`);
  });
}
