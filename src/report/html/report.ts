import type { AnalyzeOptions } from '../../analysis/analyzer.js';
import { analyzeWithFetches } from '../../analysis/full.js';
import { compareProfiles } from '../../compare/diff.js';
import { buildProfiles } from '../../compare/profile.js';
import type { CaptureData, ReportData } from './data.js';
import { CaptureCollector, comparisonData, HISTOGRAM_EDGES_MS } from './model.js';

export const GENERATOR = 'imapscope 0.1.0';

/**
 * Analyse each capture once (with fetches) and gather what the page shows. With two or more captures the
 * exchanges are kept too, for the behaviour comparison; one capture keeps only the page's compact rows.
 */
export async function buildReportData(paths: readonly string[], settings: AnalyzeOptions = {}): Promise<ReportData> {
  const captures: CaptureData[] = [];
  const inputs = [];
  const compare = paths.length > 1;
  for (const path of paths) {
    const collector = new CaptureCollector();
    const analysis = await analyzeWithFetches(path, { ...settings, ...collector.hooks, keepExchanges: compare });
    captures.push(collector.finish(analysis));
    if (compare) inputs.push({ label: path, analysis, steps: analysis.fetches.steps });
  }
  const profiles = compare ? buildProfiles(inputs, 'capture') : [];
  const comparisons = profiles.slice(1).map((p) => comparisonData(compareProfiles(profiles[0]!, p)));
  return { generator: GENERATOR, captures, comparisons, histogramEdgesMs: HISTOGRAM_EDGES_MS };
}
