import type { Command } from 'commander';
import { jsonText } from '../../util/json.js';
import { escapeText } from '../../util/escape.js';
import { analyzeWithFetches } from '../../analysis/full.js';
import { fetchesText, messageJson, sectionFetchJson, stepJson } from '../../report/fetches.js';
import { jsonWarnings, writeWarnings } from '../../report/format.js';
import { ConnectionChoice, captureSettings } from '../options.js';
import { captureOptions } from '../program.js';
import { output } from '../output.js';

interface FetchesOptions { json?: boolean; ndjson?: boolean; conn?: string; port: string; keylog?: string[] }

export function registerFetches(program: Command): void {
  captureOptions(program.command('fetches')
    .description('which messages and which MIME parts were fetched: per message its MIME tree and, per part, who fetched it, how and how many bytes; plus each connection\'s fetch strategy')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .option('--conn <id>', 'only what this connection fetched (tcp.stream id)')
    .option('--json', 'JSON output (schema: docs/schema/fetches.schema.json)')
    .option('--ndjson', 'one JSON object per fetched section, written as the capture streams'))
    .action(async (captures: string[], opts: FetchesOptions) => {
      const settings = captureSettings(opts);
      const conn = opts.conn !== undefined ? new ConnectionChoice(opts.conn) : null;
      const results = [];
      for (const [, path] of output.inputs(captures)) {
        const analysis = await analyzeWithFetches(path, { ...settings, connections: conn?.accepts }, {
          onSection: opts.ndjson
            ? (m, f) => output.write(`${jsonText({ ...(captures.length > 1 ? { capture: path } : {}), mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, ...sectionFetchJson(f) })}\n`)
            : undefined,
        });
        conn?.requireFound(path);
        results.push({ path, tracker: analysis.fetches, warnings: analysis.warnings, notice: analysis.visibility.notice });
      }
      if (opts.ndjson) return;
      if (opts.json) {
        const multi = results.length > 1;
        output.json({
          messages: results.flatMap((r) => r.tracker.list().map((m) => ({ ...(multi ? { capture: r.path } : {}), ...messageJson(m) }))),
          strategy: results.flatMap((r) => r.tracker.steps.map((s) => ({ ...(multi ? { capture: r.path } : {}), ...stepJson(s) }))),
          warnings: results.flatMap((r) => jsonWarnings(r.warnings).map((w) => (multi ? { capture: r.path, ...w } : w))),
        });
        return;
      }
      for (const r of results) {
        if (results.length > 1) output.write(`${escapeText(r.path)}:\n`);
        if (r.notice) output.write(`${escapeText(r.notice)}\n`);
        output.write(fetchesText(r.tracker.list(), r.tracker.steps));
        writeWarnings(r.warnings, r.path);
      }
    });
}
