/** How many captures are read at once (--jobs), and how big they are. */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Default for --jobs: one per core. */
function defaultJobs(): number {
  return availableParallelism();
}

/** The --jobs a command was given, or `auto` (jobsFor decides). */
export type Jobs = number | 'auto';

/**
 * Captures adding up to less than this are read one after another unless --jobs says otherwise: a worker's start-up
 * (tens of milliseconds, and a heap of its own) cost more than it saved (docs/benchmarks.md, "Many captures").
 */
export const SMALL_INPUT_BYTES = 16 * 1024 * 1024;

/**
 * How many jobs read these captures (`sizes`: captureSizes). Without --jobs, one per core, or one for captures that add
 * up to little (SMALL_INPUT_BYTES). Standard input is this process's own: a worker thread cannot read it, so a run that
 * reads `-` keeps every capture in this thread.
 */
export function jobsFor(jobs: Jobs, captures: readonly string[], sizes: readonly number[]): number {
  if (captures.includes('-')) return 1;
  if (jobs !== 'auto') return jobs;
  return sizes.reduce((sum, n) => sum + n, 0) < SMALL_INPUT_BYTES ? 1 : defaultJobs();
}

/** Each capture's size in bytes, 0 for standard input or a file that cannot be read now (its task reports that): with several jobs, this thread takes the largest. */
export function captureSizes(captures: readonly string[]): number[] {
  return captures.map((path) => {
    if (path === '-') return 0;
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  });
}
