import type { Command } from 'commander';
import { captureOptions, filterOption, jobsOption, lazyAction } from '../common-options.js';

export function registerFetches(program: Command): void {
  const cmd = program.command('fetches')
    .description('which messages and which MIME parts were fetched: per message its MIME tree and, per part, who fetched it, how and how many bytes; plus each connection\'s fetch strategy')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--conn <id>', 'only what this connection fetched (tcp.stream id)')
    .option('--json', 'JSON output (schema: docs/schema/fetches.schema.json); like the text, a large capture is sorted through a private temporary directory (IMAPSCOPE_FETCHES_BUDGET)')
    .option('--ndjson', 'one JSON object per fetched section, written as the capture streams');
  filterOption(cmd, 'the FETCH exchanges: only what they fetched is shown');
  jobsOption(captureOptions(cmd)).action(lazyAction(async () => (await import('../run/fetches.js')).runFetches));
}
