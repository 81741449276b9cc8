import { analyzeCapture, type AnalyzeOptions } from '../analysis/analyzer.js';
import type { CaptureInput } from '../capture/reader.js';
import type { Warning } from '../capture/types.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { CaptureChecker } from './capture-checker.js';
import type { CaptureOutcomes } from './rules.js';
import type { EvaluateOptions, Rule } from './types.js';

/** Which exchanges and connections a check counts (-Y); the CLI's Selection is one. */
export interface CheckSelection {
  exchange(ex: Exchange, conn: ImapConnection): boolean;
  /** False when the ended connection is certainly not selected. */
  mayKeep(c: ImapConnection): boolean;
  /** Whether a drained connection (each of its exchanges seen) is selected. */
  selectsDrained(c: ImapConnection): boolean;
  /** After the capture: whether a connection mayKeep let through is selected. */
  keeps(id: number): boolean;
}

const EVERYTHING: CheckSelection = { exchange: () => true, mayKeep: () => true, selectsDrained: () => true, keeps: () => true };

export interface CheckedCapture extends CaptureOutcomes {
  warnings: Warning[];
}

/**
 * Every rule on one capture in one streaming pass: no exchange and no connection record is kept, so memory grows
 * with the connections open at once (and, for max-connections and max-concurrent, 46 bytes per connection ended).
 */
export async function checkCapture(input: CaptureInput, rules: readonly Rule[], options: AnalyzeOptions = {}, evaluation: EvaluateOptions = {},
  selection: CheckSelection = EVERYTHING): Promise<CheckedCapture> {
  const checker = new CaptureChecker(rules, evaluation);
  const a = await analyzeCapture(input, {
    ...options,
    keepConnections: false,
    statistics: false,
    onExchange: (ex, conn) => {
      if (selection.exchange(ex, conn)) checker.exchange(ex, conn);
    },
    onConnectionClose: (c) => checker.ended(c, selection.mayKeep(c)),
    onConnectionDrained: (c) => checker.drained(c, selection.selectsDrained(c)),
    onConnectionSettled: checker.settle,
  });
  return { capture: a.capture.path, outcomes: checker.finish(a.capture.path, (id) => selection.keeps(id)), warnings: a.warnings };
}
