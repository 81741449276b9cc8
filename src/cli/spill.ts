import { UsageError } from './errors.js';

/**
 * Records (fetched messages and their sections) that `fetches`, `fetches --json` and `extract` hold per capture
 * before they write them as a sorted run to a temporary directory (a message with one section costs about 1.3 KiB
 * held); IMAPSCOPE_FETCHES_BUDGET sets another.
 */
export const FETCHES_SPILL_BUDGET = 10_000;

export function spillBudget(): number {
  const text = process.env.IMAPSCOPE_FETCHES_BUDGET;
  if (text === undefined || text === '') return FETCHES_SPILL_BUDGET;
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`IMAPSCOPE_FETCHES_BUDGET must be a positive whole number, got '${text}'`, { hint: false });
  return Number(text);
}
