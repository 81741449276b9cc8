import type { AnalyzeOptions } from '../../analysis/analyzer.js';
import { CommandStats } from '../../analysis/stats.js';
import { WarningList } from '../../analysis/warning-list.js';
import type { Exchange, ImapConnection } from '../../imap/model.js';
import type { LateChanges, TimePoint } from '../../tcp/types.js';
import { fetchedBy, fetchExchangeKey } from '../../analysis/fetches.js';
import { analyzeWithFetches } from '../../analysis/full.js';
import { comparisonsWithFirst } from '../../compare/diff.js';
import { buildProfiles } from '../../compare/profile.js';
import { BehaviourCollector } from '../../compare/behaviour.js';
import { mkdtempSync } from 'node:fs';
import { closedOnFailure } from '../../util/closed-on-failure.js';
import { join } from 'node:path';
import type { ReportData } from './data.js';
import { CaptureCollector, comparisonData, HISTOGRAM_EDGES_MS, LADDER_HELD, type CaptureReport, type ComparisonReport } from './model.js';

export const GENERATOR = 'imapscope 0.1.0';

/** What a display filter (-Y) keeps of one capture: the page then shows only that. */
export interface ReportSelection {
  firstFrame(time: TimePoint): void;
  exchange(ex: Exchange, info: ImapConnection): boolean;
  /** Whether a connection whose exchanges have all been seen is shown. */
  shows(c: ImapConnection): boolean;
}

/** The report's data as the page writer takes it: each capture's connections are made as they are written. */
export type ReportDocument = Omit<ReportData, 'captures' | 'comparisons'> & { captures: CaptureReport[]; comparisons: ComparisonReport[] };

/** How the page is made: fetched messages held before they are sorted through disk, and how many are embedded. */
export interface ReportOptions {
  /**
   * FetchTracker's `spill` (budget and directory); absent: every message is held until the page is made. With a
   * directory, each capture's connection rows wait there too, until the page is written (it must stay until then), and
   * the exchanges of connections not yet drained beyond `ladderBudget`.
   */
  spill?: { budget: number; dir?: string };
  /** Messages embedded per capture (default MAX_MESSAGES); the rest are counted. */
  maxMessages?: number;
  /** Exchanges held for connections' ladders before they wait in the spill directory too (default LADDER_HELD). */
  ladderBudget?: number;
}

/**
 * Analyse each capture once (with fetches) and gather what the page shows. With two or more captures each
 * connection's behaviour is gathered too, for the comparison; one capture keeps only the page's compact rows.
 */
export async function buildReportData(
  paths: readonly string[], settings: AnalyzeOptions = {}, select?: () => ReportSelection, options: ReportOptions = {},
): Promise<ReportDocument> {
  const captures: CaptureReport[] = [];
  const inputs = [];
  const compare = paths.length > 1;
  // The connections' rows go to a directory of this report's own inside the spill directory (which the caller removes).
  const rows = options.spill?.dir === undefined ? null : mkdtempSync(join(options.spill.dir, 'report-'));
  for (const [n, path] of paths.entries()) {
    const selection = select?.();
    const collector = new CaptureCollector({
      rowsFile: rows === null ? undefined : join(rows, `rows-${n}`),
      ladderSpool: rows === null ? undefined : { path: join(rows, `ladders-${n}`), budget: options.ladderBudget ?? LADDER_HELD },
      shows: selection && ((c) => selection.shows(c)),
    });
    // With a filter, the page's exchanges, per-command figures, lanes and messages are the selected ones only.
    const stats = new CommandStats();
    const chosen = new Set<string>();
    const onExchange = selection
      ? (ex: Exchange, info: ImapConnection) => {
        if (!selection.exchange(ex, info)) return;
        stats.add(ex);
        chosen.add(fetchExchangeKey(ex));
        collector.hooks.onExchange!(ex, info);
      }
      : collector.hooks.onExchange!;
    // The comparison reads every exchange, selected or not, as compare does.
    // What the comparison's own caps find joins the capture's warnings, in the order found.
    const warnings = new WarningList();
    // Its rows and long lists wait in the report's directory, as compare's do in its own.
    const behaviour = compare ? new BehaviourCollector('capture', rows === null ? null : join(rows, `behaviour-${n}`), warnings.add) : null;
    const hooks = collector.hooks;
    // Should the pass fail, the files the collector had begun are closed (the caller removes the directory).
    const analysis = await closedOnFailure(() => { collector.abandon(); behaviour?.abandon(); }, analyzeWithFetches(path, {
      ...settings, ...hooks, warnings,
      keepConnections: false, // each connection's row is made when it is drained
      onFirstFrame: selection ? (t: TimePoint) => { selection.firstFrame(t); hooks.onFirstFrame!(t); } : hooks.onFirstFrame,
      onExchange: behaviour ? (ex, info) => { behaviour.exchange(ex); onExchange(ex, info); } : onExchange,
      // The comparison copies what it reads of each record at the close, completed when settled, as compare does.
      onConnectionClose: behaviour ? (c: ImapConnection) => behaviour.endedAt(c) : undefined,
      onConnectionSettled: behaviour ? (late: LateChanges) => { behaviour.settle(late); hooks.onConnectionSettled?.(late); } : hooks.onConnectionSettled,
      onConnectionDrained: behaviour ? (c: ImapConnection) => { behaviour.drained(c); hooks.onConnectionDrained!(c); } : hooks.onConnectionDrained,
      // The page shows no fetch strategy: steps are followed only for the comparison, which takes each as it completes.
    }, { spill: options.spill, stepUids: false, ...(behaviour ? { onStep: behaviour.step } : { steps: false }) }));
    try {
      // With a filter, the messages its exchanges fetched; without, finish() takes every one (counting those it does not show).
      const messages = selection ? fetchedBy(analysis.fetches.sorted(), chosen) : undefined;
      const a = selection ? { ...analysis, commandStats: stats } : analysis;
      captures.push(collector.finish(a, messages, options.maxMessages));
    } finally {
      analysis.fetches.dispose();
    }
    if (behaviour) inputs.push({ label: path, behaviour: behaviour.result() });
  }
  const profiles = compare ? buildProfiles(inputs, 'capture') : [];
  const comparisons = Array.from(comparisonsWithFirst(profiles), comparisonData);
  return { generator: GENERATOR, captures, comparisons, histogramEdgesMs: HISTOGRAM_EDGES_MS };
}

