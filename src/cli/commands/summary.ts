import type { Command } from 'commander';
import { analyzeCapture, type CaptureAnalysis } from '../../analysis/analyzer.js';
import { summaryJson, summaryText } from '../../report/summary.js';
import { writeWarnings } from '../../report/format.js';
import { captureSettings } from '../options.js';
import { captureOptions } from '../program.js';
import { jsonText } from '../../util/json.js';

export function registerSummary(program: Command): void {
  captureOptions(program.command('summary')
    .description('captures, one row per IMAP connection (user, client, commands, TLS/COMPRESS), concurrency, and per-command counts and latency')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .option('--json', 'JSON output (schema: docs/schema/summary.schema.json)'))
    .action(async (captures: string[], opts: { json?: boolean; port: string; keylog?: string[] }) => {
      const settings = captureSettings(opts);
      const analyses: CaptureAnalysis[] = [];
      for (const path of captures) analyses.push(await analyzeCapture(path, settings));
      if (opts.json) {
        process.stdout.write(`${jsonText(summaryJson(analyses), 2)}\n`);
        return;
      }
      for (const a of analyses) {
        process.stdout.write(summaryText(a));
        writeWarnings(a.warnings, a.capture.path);
      }
    });
}
