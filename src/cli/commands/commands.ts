import type { Command } from 'commander';
import { analyzeCapture } from '../../analysis/analyzer.js';
import { COMMAND_COLUMNS, exchangeJson, exchangeRow } from '../../report/commands.js';
import { jsonWarnings, makeTable, writeWarnings } from '../../report/format.js';
import { escapeText } from '../../util/escape.js';
import type { Exchange } from '../../imap/model.js';
import type { TimePoint } from '../../tcp/types.js';
import { ConnectionChoice, captureSettings } from '../options.js';
import { output } from '../output.js';
import { captureOptions } from '../program.js';
import { jsonText } from '../../util/json.js';

/** Text tables are printed in slices so memory stays flat on huge captures. */
const ROWS_PER_TABLE = 500;

interface CommandsOptions { json?: boolean; ndjson?: boolean; conn?: string; command?: string; showSecrets?: boolean; port: string; keylog?: string[] }

export function registerCommands(program: Command): void {
  captureOptions(program.command('commands')
    .description('one row per command exchange: request frame, tag, command, arguments, status, response, latency, untagged count')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .option('--conn <id>', 'only this connection (tcp.stream id)')
    .option('--command <name>', 'only this command (e.g. FETCH, "UID FETCH"; case-insensitive)')
    .option('--json', 'JSON output, written as the capture streams (schema: docs/schema/commands.schema.json)')
    .option('--ndjson', 'one JSON object per line, written as the capture streams')
    .option('--show-secrets', 'show passwords and SASL payloads instead of ***'))
    .action(async (captures: string[], opts: CommandsOptions) => {
      const settings = captureSettings(opts);
      const conn = opts.conn !== undefined ? new ConnectionChoice(opts.conn) : null;
      const wanted = opts.command?.toUpperCase().replace(/\s+/g, ' ');
      const view = { showSecrets: Boolean(opts.showSecrets) };
      const keep = (ex: Exchange) => (conn === null || ex.conn === conn.id) && (!wanted || ex.command === wanted);
      const out = output;
      // The JSON document opens with its first exchange, so that a usage error (--conn) leaves stdout empty.
      let opened = false;
      const openJson = () => {
        if (!opened) out.write('{"exchanges":[');
        opened = true;
      };
      let first = true;
      const allWarnings = [];
      for (const [, path] of output.inputs(captures)) {
        let rows: string[][] = [];
        let t0: TimePoint | null = null;
        let named = captures.length === 1;
        const flushTable = () => {
          if (rows.length === 0) return;
          // Several captures: each one's rows stand under its path.
          if (!named) out.write(`${escapeText(path)}:\n`);
          named = true;
          const table = makeTable(COMMAND_COLUMNS);
          table.push(...rows);
          out.write(`${table.toString()}\n`);
          rows = [];
        };
        const analysis = await analyzeCapture(path, {
          ...settings,
          connections: conn?.accepts,
          onExchange: (ex) => {
            if (!keep(ex)) return;
            const json = () => ({ ...(captures.length > 1 ? { capture: path } : {}), ...exchangeJson(ex, view) });
            if (opts.ndjson) out.write(`${jsonText(json())}\n`);
            else if (opts.json) {
              openJson();
              out.write(`${first ? '\n' : ',\n'}${jsonText(json())}`);
              first = false;
            } else {
              t0 ??= ex.start ?? ex.end;
              rows.push(exchangeRow(ex, t0, view));
              if (rows.length >= ROWS_PER_TABLE) flushTable();
            }
          },
        });
        conn?.requireFound(path);
        if (!opts.json && !opts.ndjson) {
          flushTable();
          if (t0 === null) out.write(`${escapeText(path)}: no command exchanges\n`);
          if (analysis.visibility.notice) out.write(`${escapeText(path)}: ${analysis.visibility.notice}\n`);
          writeWarnings(analysis.warnings, path);
        }
        allWarnings.push(...jsonWarnings(analysis.warnings).map((w) => (captures.length > 1 ? { capture: path, ...w } : w)));
      }
      if (opts.json) {
        openJson();
        out.write(`\n],"warnings":${jsonText(allWarnings)}${output.interrupted ? ',"partial":true' : ''}}\n`);
      }
    });
}
