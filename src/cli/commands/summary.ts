import type { Command } from 'commander';
import { analyzeCapture, type CaptureAnalysis } from '../../analysis/analyzer.js';
import { CommandStats } from '../../analysis/stats.js';
import { summaryJson, summaryText } from '../../report/summary.js';
import { writeWarnings } from '../../report/format.js';
import { captureSettings } from '../options.js';
import { captureOptions } from '../program.js';
import { output } from '../output.js';
import { compileFilterOption, filterOption } from '../display-options.js';
import { Selection } from '../selection.js';
import { planWrite, runWrite, writeOptions, type WriteFlags } from '../write-options.js';

interface SummaryOptions extends WriteFlags { json?: boolean; filter?: string; port: string; keylog?: string[] }

export function registerSummary(program: Command): void {
  const cmd = program.command('summary')
    .description('captures, one row per IMAP connection (user, client, commands, TLS/COMPRESS), concurrency, and per-command counts and latency')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .option('--json', 'JSON output (schema: docs/schema/summary.schema.json)');
  filterOption(cmd, 'command exchanges: the summary covers the matching exchanges and the connections that have one');
  writeOptions(cmd);
  captureOptions(cmd).action(async (captures: string[], opts: SummaryOptions) => {
    const settings = captureSettings(opts);
    const filter = compileFilterOption(opts.filter);
    const write = planWrite(opts, captures, filter !== null);
    const analyses: CaptureAnalysis[] = [];
    for (const [, path] of output.inputs(captures)) {
      const selection = new Selection(filter);
      // With a filter, the per-command statistics count the selected exchanges only.
      const stats = new CommandStats();
      const a = await analyzeCapture(path, {
        ...settings,
        onFirstFrame: (t) => { selection.t0 = t; },
        onExchange: filter ? (ex, info) => { if (selection.exchange(ex, info)) stats.add(ex); } : undefined,
      });
      const selected = selection.connections(a.connections);
      analyses.push(filter ? { ...a, connections: selected, commandStats: stats } : a);
      if (write) await runWrite(write, path, selected, settings);
    }
    if (opts.json) {
      output.json(summaryJson(analyses));
      return;
    }
    for (const a of analyses) {
      output.write(summaryText(a));
      writeWarnings(a.warnings, a.capture.path);
    }
  });
}
