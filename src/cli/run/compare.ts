import { expandCaptures } from '../../fleet/walk.js';
import type { CaptureSettings } from '../../settings.js';
import { inOrder } from '../../parallel/pool.js';
import { allSame, comparisonsWithFirst } from '../../compare/diff.js';
import type { CaptureBehaviour } from '../../compare/behaviour.js';
import { buildProfiles, type GroupBy, type Profiles } from '../../compare/profile.js';
import { compareJson, compareTextLines } from '../../report/compare.js';
import { gathered } from '../../util/json.js';
import { EXIT_CHECK_FAILED, UsageError } from '../errors.js';
import { captureSettings, plainSettings, jobsOf } from '../options.js';
import { captureSizes, jobsFor } from '../../parallel/jobs.js';
import { output } from '../output.js';
import { spillDirectory } from '../spill.js';
import { join } from 'node:path';
import { escapeText } from '../../util/escape.js';

export async function runCompare(args: string[], opts: { by: GroupBy; json?: boolean; expectSame?: boolean; full?: boolean; port: string; keylog?: string[]; jobs?: string }): Promise<void> {
  const captures = await expandCaptures(args);
  if (opts.by === 'capture') checkTwoCaptures(captures);
  const settings = captureSettings(opts);
  const { profiles, read } = await readProfiles(captures, opts, settings);
  if (profiles.length < 2 && settings.signal?.aborted) {
    // Ctrl-C before a second capture was read: nothing to compare (the partial line says why; exit 130).
    output.note(`imapscope: compare: interrupted with ${read} of ${captures.length} captures read; nothing compared`);
    return;
  }
  if (profiles.length < 2) throw new UsageError(`compare needs at least two profiles; got ${profiles.length} (give two captures, or --by client-ip / --by user)`);
  const comparisons = comparisonsWithFirst(profiles);
  if (opts.json) await output.json(compareJson(profiles, comparisons));
  else await output.pieces(gathered(compareTextLines(profiles, comparisons, { width: output.columns ?? 160, full: opts.full })));
  if (opts.expectSame && !allSame(comparisons)) process.exitCode = EXIT_CHECK_FAILED;
}

/** Before any is read (a capture can take minutes): a profile per capture needs two, each named once (its label). */
function checkTwoCaptures(captures: readonly string[]): void {
  const twice = captures.find((c, i) => captures.indexOf(c) !== i);
  if (twice !== undefined) throw new UsageError(`compare: ${escapeText(twice)} is named twice; name two different captures, or one with --by client-ip / --by user`);
  if (captures.length < 2) throw new UsageError(`compare needs two captures, or one with --by client-ip / --by user; got ${captures.length}`);
}

/**
 * Each capture's behaviour, grouped into profiles. A few profiles are made at once, and the behaviour is let go (they
 * hold what is compared); many (a profile per client address or user) are made as they are read, from it.
 */
async function readProfiles(captures: string[], opts: { by: GroupBy; jobs?: string }, settings: ReturnType<typeof captureSettings>): Promise<{ profiles: Profiles; read: number }> {
  const inputs: { label: string; behaviour: CaptureBehaviour }[] = [];
  // Each capture's rows wait here while it is read, so that memory does not grow with the sessions it closed.
  const spool = spillDirectory('spool connection rows to', "every connection's row");
  try {
    const sizes = captureSizes(captures);
    const tasks = captures.map((path, n) => [path, plainSettings(settings), opts.by, spool && join(spool.path, `behaviour-${n}`)] as [string, CaptureSettings, GroupBy, string | null]);
    // What a task gives back is plain data a copy leaves unchanged (test/jobs.test.ts): taken as it is.
    for await (const { warnings, ...behaviour } of inOrder('behaviour', tasks, jobsFor(jobsOf(opts), captures, sizes), undefined, settings, { copyInThread: false, sizes })) {
      const label = captures[inputs.length]!;
      output.warnings(warnings, label);
      inputs.push({ label, behaviour });
    }
  } finally {
    spool?.remove();
  }
  return { profiles: buildProfiles(inputs, opts.by), read: inputs.length };
}
