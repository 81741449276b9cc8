import { analyzeWithFetches, type FullAnalysis } from '../../analysis/full.js';
import { ExtractError, Extractor } from '../../extract/extractor.js';
import { escapeText } from '../../util/escape.js';
import { UsageError } from '../errors.js';
import { capturePipeline, captureSettings } from '../options.js';
import { output } from '../output.js';
import { spillBudget } from '../spill.js';

export async function runExtract(capture: string, opts: { out: string; force?: boolean; port: string; keylog?: string[] }): Promise<void> {
  const settings = captureSettings(opts);
  const budget = spillBudget();
  let extractor: Extractor;
  try {
    extractor = new Extractor(opts.out, Boolean(opts.force), (m) => output.note(`imapscope: ${escapeText(m)}`));
  } catch (err) {
    if (err instanceof ExtractError) throw new UsageError(err.message);
    throw err;
  }
  let analysis: FullAnalysis;
  try {
    analysis = await analyzeWithFetches(capture, {
      ...capturePipeline(settings),
      keepConnections: false, // files and manifest come from the messages alone
      statistics: false,
      onLiteralStart: (msg, lit) => extractor.literalStart(msg, lit),
    }, {
      onSection: (m, f, s) => extractor.section(m, f, s),
      numberSections: true,
      steps: false, // the fetch strategy is not written
      // Messages beyond the budget are sorted through runs inside --out's temporary directory, never elsewhere.
      spill: { budget, dir: extractor.tmpDir },
    });
  } catch (err) {
    extractor.dispose(); // an unreadable capture leaves no temporary files behind
    throw err;
  }
  const files = await extractor.finish(capture, analysis.fetches.sorted());
  output.warnings(analysis.warnings, capture);
  const existing = extractor.existing.length;
  if (files === 0 && existing > 0) {
    output.write(`nothing written: all ${existing} file(s) already exist in ${escapeText(opts.out)} (--force overwrites them)\n`);
  } else {
    output.write(`${files} file(s) written to ${escapeText(opts.out)} (see manifest.json)` +
      (existing > 0 ? `; ${existing} already existed and were left alone (--force overwrites them)` : '') + '\n');
  }
}
