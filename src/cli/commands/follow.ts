import { Option, type Command } from 'commander';
import { captureOptions, lazyAction } from '../common-options.js';

export function registerFollow(program: Command): void {
  captureOptions(program.command('follow')
    .description('one connection as a readable transcript (C:/S: lines, literals folded), or its raw bytes with --raw')
    .argument('<capture>', 'capture file (pcap, pcapng, gzip; - for stdin)')
    .requiredOption('--conn <id>', 'connection id (as in streams and summary; = Wireshark tcp.stream)')
    .option('--raw', 'write the reassembled bytes of one direction to stdout exactly (gaps left out, reported on stderr)')
    .addOption(new Option('--side <side>', 'direction for --raw').choices(['client', 'server']).default('client'))
    .option('--full', 'show literal contents instead of {n bytes}')
    .option('--show-secrets', 'show passwords and SASL payloads instead of ***')
    .option('-Y, --filter <expr>', 'only the command exchanges this display filter selects, each with its responses (Wireshark syntax; imapscope fields)'))
    .action(lazyAction(async () => (await import('../run/follow.js')).runFollow));
}
