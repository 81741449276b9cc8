import type { Command } from 'commander';
import { expandCaptures } from '../../fleet/walk.js';
import type { CaptureSettings } from '../../settings.js';
import type { CaptureAnalysis } from '../../analysis/analyzer.js';
import { inOrder } from '../../parallel/pool.js';
import { restoreAnalysis } from '../../parallel/tasks.js';
import { summaryJson, summaryText } from '../../report/summary.js';
import { writeWarnings } from '../../report/format.js';
import { captureSettings, plainSettings, jobsOf } from '../options.js';
import { captureOptions, jobsOption } from '../program.js';

export function registerSummary(program: Command): void {
  jobsOption(captureOptions(program.command('summary')
    .description('captures, one row per IMAP connection (user, client, commands, TLS/COMPRESS), concurrency, and per-command counts and latency')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--json', 'JSON output (schema: docs/schema/summary.schema.json)')))
    .action(async (args: string[], opts: { json?: boolean; port: string; keylog?: string[]; jobs?: string }) => {
      const captures = await expandCaptures(args);
      const settings = captureSettings(opts);
      const analyses: CaptureAnalysis[] = [];
      const inputs = captures.map((path) => [path, plainSettings(settings), false] as [string, CaptureSettings, boolean]);
      for await (const a of inOrder('analysis', inputs, jobsOf(opts))) analyses.push(restoreAnalysis(a));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summaryJson(analyses), null, 2)}\n`);
        return;
      }
      for (const a of analyses) {
        process.stdout.write(summaryText(a));
        writeWarnings(a.warnings, a.capture.path);
      }
    });
}
