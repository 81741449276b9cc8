import type { Command } from 'commander';
import { captureOptions, filterOption, jobsOption, lazyAction, outputOptions, writeOptions } from '../common-options.js';

export function registerCommands(program: Command): void {
  const cmd = program.command('commands')
    .description('one row per command exchange: request frame, tag, command, arguments, status, response, latency, untagged count')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--conn <id>', 'only this connection (tcp.stream id)')
    .option('--command <name>', 'only this command (e.g. FETCH, "UID FETCH"; case-insensitive)');
  filterOption(cmd);
  outputOptions(cmd, ['text', 'json', 'ndjson', 'fields', 'csv'])
    .option('--json', 'JSON output, written as the capture streams (schema: docs/schema/commands.schema.json)')
    .option('--ndjson', 'one JSON object per line, written as the capture streams')
    .option('--show-secrets', 'show passwords and SASL payloads instead of ***');
  writeOptions(cmd);
  jobsOption(captureOptions(cmd)).action(lazyAction(async () => (await import('../run/commands.js')).runCommands));
}
