import type { Command } from 'commander';
import { captureOptions, filterOption, jobsOption, lazyAction, writeOptions } from '../common-options.js';

export function registerSummary(program: Command): void {
  const cmd = program.command('summary')
    .description('captures, one row per IMAP connection (user, client, commands, TLS/COMPRESS), concurrency, and per-command counts and latency')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--json', 'JSON output (schema: docs/schema/summary.schema.json)');
  filterOption(cmd, 'command exchanges: the summary covers the matching exchanges and the connections that have one');
  writeOptions(cmd);
  jobsOption(captureOptions(cmd)).action(lazyAction(async () => (await import('../run/summary.js')).runSummary));
}
