import type { Command } from 'commander';
import { expandCaptures } from '../../fleet/walk.js';
import type { CaptureSettings } from '../../settings.js';
import { Option } from 'commander';
import { inOrder } from '../../parallel/pool.js';
import { restoreAnalysis } from '../../parallel/tasks.js';
import { compareProfiles } from '../../compare/diff.js';
import { buildProfiles, type GroupBy } from '../../compare/profile.js';
import { compareJson, compareText } from '../../report/compare.js';
import { EXIT_CHECK_FAILED, UsageError } from '../errors.js';
import { captureSettings, plainSettings, jobsOf } from '../options.js';
import { captureOptions, jobsOption } from '../program.js';
import { output } from '../output.js';

export function registerCompare(program: Command): void {
  jobsOption(captureOptions(program.command('compare')
    .description('compare the behaviour of mail clients: connections and overlap, normalised command sequences, extensions, fetch strategy (accounts, tags, UIDs and times do not count)')
    .argument('<captures...>', 'two or more captures (each compared with the first; directories are walked for them), or one with --by')
    .addOption(new Option('--by <group>', 'profile per capture (default), per client IP or per user').choices(['capture', 'client-ip', 'user']).default('capture'))
    .option('--json', 'JSON output (schema: docs/schema/compare.schema.json)')
    .option('--expect-same', 'exit 1 when the behaviour differs (for CI)')
    .option('--full', 'show every aligned command (long runs of equal commands are folded otherwise)')))
    .action(async (args: string[], opts: { by: GroupBy; json?: boolean; expectSame?: boolean; full?: boolean; port: string; keylog?: string[]; jobs?: string }) => {
      const captures = await expandCaptures(args);
      const settings = captureSettings(opts);
      const inputs = [];
      const tasks = captures.map((path) => [path, plainSettings(settings)] as [string, CaptureSettings]);
      let i = 0;
      for await (const { analysis, steps } of inOrder('behaviour', tasks, jobsOf(opts), undefined, settings)) inputs.push({ label: captures[i++]!, analysis: restoreAnalysis(analysis), steps });
      const profiles = buildProfiles(inputs, opts.by);
      if (profiles.length < 2) throw new UsageError(`compare needs at least two profiles; got ${profiles.length} (give two captures, or --by client-ip / --by user)`);
      const comparisons = profiles.slice(1).map((p) => compareProfiles(profiles[0]!, p));
      if (opts.json) await output.json(compareJson(profiles, comparisons));
      else output.write(compareText(profiles, comparisons, { width: output.columns ?? 160, full: opts.full }));
      if (opts.expectSame && !comparisons.every((c) => c.same)) process.exitCode = EXIT_CHECK_FAILED;
    });
}
