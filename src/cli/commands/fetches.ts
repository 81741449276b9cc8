import type { Command } from 'commander';
import { expandCaptures } from '../../fleet/walk.js';
import type { CaptureSettings } from '../../settings.js';
import { escapeText } from '../../util/escape.js';
import { inOrder } from '../../parallel/pool.js';
import { fetchesText, messageJson, stepJson } from '../../report/fetches.js';
import { jsonWarnings, writeWarnings } from '../../report/format.js';
import { captureSettings, plainSettings, jobsOf } from '../options.js';
import { captureOptions, jobsOption } from '../program.js';

interface FetchesOptions { json?: boolean; ndjson?: boolean; port: string; keylog?: string[]; jobs?: string }

export function registerFetches(program: Command): void {
  jobsOption(captureOptions(program.command('fetches')
    .description('which messages and which MIME parts were fetched: per message its MIME tree and, per part, who fetched it, how and how many bytes; plus each connection\'s fetch strategy')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--json', 'JSON output (schema: docs/schema/fetches.schema.json)')
    .option('--ndjson', 'one JSON object per fetched section, written as the capture streams')))
    .action(async (args: string[], opts: FetchesOptions) => {
      const captures = await expandCaptures(args);
      const settings = captureSettings(opts);
      const results = [];
      const inputs = captures.map((path) => [path, plainSettings(settings), Boolean(opts.ndjson), captures.length > 1 ? path : null] as [string, CaptureSettings, boolean, string | null]);
      for await (const r of inOrder('fetches', inputs, jobsOf(opts), (_channel, text) => process.stdout.write(text))) results.push(r);
      if (opts.ndjson) return;
      if (opts.json) {
        const multi = results.length > 1;
        process.stdout.write(`${JSON.stringify({
          messages: results.flatMap((r) => r.messages.map((m) => ({ ...(multi ? { capture: r.path } : {}), ...messageJson(m) }))),
          strategy: results.flatMap((r) => r.steps.map((s) => ({ ...(multi ? { capture: r.path } : {}), ...stepJson(s) }))),
          warnings: results.flatMap((r) => jsonWarnings(r.warnings).map((w) => (multi ? { capture: r.path, ...w } : w))),
        }, null, 2)}\n`);
        return;
      }
      for (const r of results) {
        if (results.length > 1) process.stdout.write(`${escapeText(r.path)}:\n`);
        if (r.notice) process.stdout.write(`${escapeText(r.notice)}\n`);
        process.stdout.write(fetchesText(r.messages, r.steps));
        writeWarnings(r.warnings, r.path);
      }
    });
}
