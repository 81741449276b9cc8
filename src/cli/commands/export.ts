import { Option, type Command } from 'commander';
import { captureOptions, jobsOption, lazyAction } from '../common-options.js';

export function registerExport(program: Command): void {
  jobsOption(captureOptions(program.command('export')
    .description('write a dataset of many captures (tables captures, connections, exchanges, fetches, warnings) as Parquet or NDJSON; again on a grown directory, adds only the new captures (docs/fleet.md)')
    .argument('<captures...>', 'capture files, or directories walked for captures (told by their magic bytes, not their names)')
    .requiredOption('--out <dir>', 'dataset directory (created if missing); nothing is written outside it')
    .addOption(new Option('--format <format>', 'file format of the tables').choices(['parquet', 'ndjson']).default('parquet'))))
    .action(lazyAction(async () => (await import('../run/export.js')).runExport));
}
