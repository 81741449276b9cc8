import type { Command } from 'commander';
import { captureOptions, filterOption, lazyAction } from '../common-options.js';

export function registerReport(program: Command): void {
  const cmd = captureOptions(program.command('report')
    .description('one self-contained HTML file: capture facts, a timeline of the connections, a ladder per connection, per-command latency, fetched messages, and the differences between captures')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin)')
    .requiredOption('-o, --output <file>', 'the HTML file to write (replaced if it exists; a pipe, a terminal or /dev/null is written into; - for standard output)')
    .option('--title <text>', 'the page title (default: the capture names)'));
  filterOption(cmd, 'command exchanges: the page shows the matching exchanges and the connections that have one');
  cmd.action(lazyAction(async () => (await import('../run/report.js')).runReport));
}
