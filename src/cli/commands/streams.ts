import type { Command } from 'commander';
import { captureOptions, filterOption, jobsOption, lazyAction, writeOptions } from '../common-options.js';

export function registerStreams(program: Command): void {
  const cmd = program.command('streams')
    .description('one row per TCP connection on an IMAP port: endpoints, frames, times, bytes and gaps each way, end state')
    .argument('<capture...>', 'capture files (pcap, pcapng, gzip; - for stdin), or directories walked for them')
    .option('--json', 'JSON output (schema: docs/schema/streams.schema.json)');
  filterOption(cmd, 'connections (connection fields only: tcp.stream, ip.addr, tcp.port, tls, imap.user, …)');
  writeOptions(cmd);
  jobsOption(captureOptions(cmd)).action(lazyAction(async () => (await import('../run/streams.js')).runStreams));
}
