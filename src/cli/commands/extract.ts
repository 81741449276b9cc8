import type { Command } from 'commander';
import { captureOptions, lazyAction } from '../common-options.js';

export function registerExtract(program: Command): void {
  captureOptions(program.command('extract')
    .description('write every fetched message and MIME part to a directory, decoded (base64, quoted-printable), with a manifest.json')
    .argument('<capture>', 'capture file (pcap, pcapng, gzip; - for stdin)')
    .requiredOption('--out <dir>', 'directory to write into (created if missing); nothing is written outside it')
    .option('--force', 'overwrite files that exist (never through a link)'))
    .action(lazyAction(async () => (await import('../run/extract.js')).runExtract));
}
