import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowKind } from '../report/spilled-rows.js';
import type { SelectedCapture } from './selected-capture.js';
import { escapeText } from '../util/escape.js';
import { makeTempDir, type TempDir } from '../util/temp-dir.js';
import { UsageError } from './errors.js';
import { output } from './output.js';

/**
 * Records (fetched messages and their sections) that `fetches`, `fetches --json`, `extract` and `report` hold per capture
 * before they write them as a sorted run to a temporary directory (a message with one section costs about 0.4 KiB
 * held as its run line, as all but the latest few are: FetchTracker's LIVE_MESSAGES); IMAPSCOPE_FETCHES_BUDGET sets another.
 */
export const FETCHES_SPILL_BUDGET = 10_000;

export function spillBudget(): number {
  const text = process.env.IMAPSCOPE_FETCHES_BUDGET;
  if (text === undefined || text === '') return FETCHES_SPILL_BUDGET;
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`IMAPSCOPE_FETCHES_BUDGET must be a positive whole number, got '${text}'`, { hint: false });
  return Number(text);
}

/**
 * The private directory the listings and the report sort through, or null when none can be made (TMPDIR missing or not
 * writable): then every message is held in memory, which a capture of ordinary size never notices.
 */
export function sortingDirectory(): TempDir | null {
  return spillDirectory('sort fetched messages through', 'every message');
}

/**
 * Where summary and streams write each capture's rows as its connections close (SelectedCapture.spill),
 * so that memory does not grow with the sessions a capture closed: a private directory, made now (remove it when the
 * rows are written). None with -w, which needs the records, or when no directory can be made (then they are held).
 */
export function rowFiles(captures: readonly string[], json: boolean, write: boolean): { dir: TempDir | null; spill(n: number): SelectedCapture['spill'] } {
  const dir = write ? null : spillDirectory('write connection rows to', "every connection's record");
  const kind = (path: string): RowKind => (json ? { json: true, capture: captures.length > 1 ? path : undefined } : { json: false });
  return { dir, spill: (n) => (dir ? { file: join(dir.path, `rows-${n}`), kind: kind(captures[n]!) } : undefined) };
}

/** A private temporary directory for what a command spills, or null (and a warning) when none can be made. */
export function spillDirectory(purpose: string, held: string): TempDir | null {
  try {
    return makeTempDir('imapscope-spill-');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    output.note(`imapscope: warning: no temporary directory to ${purpose} (${escapeText(tmpdir())}: ${reason}); ${held} is held in memory (set TMPDIR to a writable directory)`);
    return null;
  }
}
