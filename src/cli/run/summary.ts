import type { CaptureAnalysis } from '../../analysis/analyzer.js';
import { restoreAnalysis } from '../../parallel/tasks.js';
import { summaryJsonStreamed, summaryTextPieces } from '../../report/summary.js';
import { output } from '../output.js';
import { compileFilterOption } from '../display-options.js';
import { runPerConnection, type PerConnectionOptions } from '../per-connection.js';

export async function runSummary(args: string[], opts: PerConnectionOptions): Promise<void> {
  const filter = compileFilterOption(opts.filter);
  await runPerConnection('analysis', args, opts, filter !== null, (r) => restoreAnalysis(r.analysis), async (analyses: CaptureAnalysis[], rows) => {
    if (opts.json) {
      await output.json(summaryJsonStreamed(analyses, rows));
      return;
    }
    for (const [n, a] of analyses.entries()) {
      await output.pieces(summaryTextPieces(a, rows[n]));
      output.warnings(a.warnings, a.capture.path);
    }
  });
}
