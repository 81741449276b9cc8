import { tmpdir } from 'node:os';
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
  try {
    return makeTempDir('imapscope-spill-');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    output.note(`imapscope: warning: no temporary directory to sort fetched messages through (${escapeText(tmpdir())}: ${reason}); every message is held in memory (set TMPDIR to a writable directory)`);
    return null;
  }
}
