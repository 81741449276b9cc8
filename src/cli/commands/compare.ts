import { Option, type Command } from 'commander';
import { captureOptions, jobsOption, lazyAction } from '../common-options.js';

export function registerCompare(program: Command): void {
  jobsOption(captureOptions(program.command('compare')
    .description('compare the behaviour of mail clients: connections and overlap, normalised command sequences, extensions, fetch strategy (accounts, tags, UIDs and times do not count)')
    .argument('<captures...>', 'two or more captures (each compared with the first; directories are walked for them), or one with --by')
    .addOption(new Option('--by <group>', 'profile per capture (default), per client IP or per user').choices(['capture', 'client-ip', 'user']).default('capture'))
    .option('--json', 'JSON output (schema: docs/schema/compare.schema.json)')
    .option('--expect-same', 'exit 1 when the behaviour differs (for CI)')
    .option('--full', 'show every aligned command and every aspect found the same (long runs of equal commands are folded, and past 12 aspects the rest counted, otherwise)')))
    .action(lazyAction(async () => (await import('../run/compare.js')).runCompare));
}
