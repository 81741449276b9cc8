import type { AnalyzeOptions } from '../analysis/analyzer.js';
import { analyzeWithFetches } from '../analysis/full.js';
import type { CaptureInput } from '../capture/reader.js';
import type { Warning } from '../capture/types.js';
import { closedOnFailure } from '../util/closed-on-failure.js';
import { WarningList } from '../analysis/warning-list.js';
import { BehaviourCollector, type CaptureBehaviour, type GroupBy } from './behaviour.js';

/**
 * What compare reads of one capture, in one streaming pass: no exchange, message or FETCH step is kept, only
 * each connection's behaviour once it is drained, its latencies by the group it will be compared in. With `spool`
 * (BehaviourCollector), those wait on disk until the pass is over.
 */
export async function captureBehaviour(input: CaptureInput, options: AnalyzeOptions = {}, by: GroupBy = 'capture', spool: string | null = null): Promise<CaptureBehaviour & { warnings: Warning[] }> {
  // What compare's own caps find joins the capture's warnings, in the order found.
  const warnings = options.warnings ?? new WarningList();
  const collector = new BehaviourCollector(by, spool, warnings.add);
  const analysis = await closedOnFailure(() => collector.abandon(), analyzeWithFetches(input, {
    ...options,
    warnings,
    keepConnections: false,
    statistics: false,
    nestedListsOnDemand: true, // what compare reads of a FETCH response is its item names
    onExchange: (ex) => collector.exchange(ex),
    onConnectionClose: (c) => {
      options.onConnectionClose?.(c);
      collector.endedAt(c);
    },
    onConnectionSettled: collector.settle,
    onConnectionDrained: (c) => collector.drained(c),
  }, { retain: false, steps: true, stepUids: false, onStep: collector.step }));
  return { ...collector.result(), warnings: analysis.warnings };
}
