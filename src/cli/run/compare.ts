import { expandCaptures } from '../../fleet/walk.js';
import type { CaptureSettings } from '../../settings.js';
import { inOrder } from '../../parallel/pool.js';
import { restoreAnalysis } from '../../parallel/tasks.js';
import { compareProfiles } from '../../compare/diff.js';
import { buildProfiles, type GroupBy } from '../../compare/profile.js';
import { compareJson, compareText } from '../../report/compare.js';
import { EXIT_CHECK_FAILED, UsageError } from '../errors.js';
import { captureSettings, plainSettings, jobsOf } from '../options.js';
import { output } from '../output.js';

export async function runCompare(args: string[], opts: { by: GroupBy; json?: boolean; expectSame?: boolean; full?: boolean; port: string; keylog?: string[]; jobs?: string }): Promise<void> {
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
}
