import type { SpilledRows } from '../analysis/connection-rows.js';
import { expandCaptures } from '../fleet/walk.js';
import { captureSizes, jobsFor } from '../parallel/jobs.js';
import { inOrder } from '../parallel/pool.js';
import type { TaskOutput } from '../parallel/tasks.js';
import { capturePipeline, captureSettings, jobsOf, plainSettings } from './options.js';
import type { SelectedCapture } from './selected-capture.js';
import { rowFiles } from './spill.js';
import { planWrite, runWrite, type WriteFlags } from './write-options.js';

/** The options `summary` and `streams` share. */
export interface PerConnectionOptions extends WriteFlags { json?: boolean; filter?: string; port: string; keylog?: string[]; jobs?: string }

/**
 * A view with a row per connection (`summary`, `streams`): each capture analysed by `task` in order (with -w, its
 * selected packets written out as it comes), the rows spilled as connections close, then `list` writes what `take`
 * kept of each capture with its rows, before the rows' directory goes. A capture analysed in this thread is used as it
 * is, not copied: the copy doubled the summary's peak and cost a sixth of the streams' time at 100,000 connections.
 */
export async function runPerConnection<N extends 'analysis' | 'streams', R>(
  task: N,
  args: string[],
  opts: PerConnectionOptions,
  filtered: boolean,
  take: (result: TaskOutput<N>) => R,
  list: (kept: R[], rows: (SpilledRows | null)[]) => Promise<void>,
): Promise<void> {
  const requested = jobsOf(opts);
  const captures = await expandCaptures(args);
  const sizes = captureSizes(captures);
  const jobs = jobsFor(requested, captures, sizes);
  const settings = captureSettings(opts);
  const write = planWrite(opts, captures, filtered);
  const files = rowFiles(captures, Boolean(opts.json), write !== null);
  const inputs = captures.map((path, n): SelectedCapture => ({ path, settings: plainSettings(settings), filter: opts.filter, keepSelected: write !== null, spill: files.spill(n) }));
  const kept: R[] = [];
  const rows: (SpilledRows | null)[] = [];
  let i = 0;
  try {
    for await (const r of inOrder(task, inputs, jobs, undefined, settings, { copyInThread: false, sizes })) {
      kept.push(take(r));
      rows.push(r.rows);
      if (write) await runWrite(write, captures[i]!, r.selected, capturePipeline(settings));
      i++;
    }
    await list(kept, rows);
  } finally {
    files.dir?.remove();
  }
}
