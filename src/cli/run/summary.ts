import { expandCaptures } from '../../fleet/walk.js';
import type { CaptureAnalysis } from '../../analysis/analyzer.js';
import { inOrder } from '../../parallel/pool.js';
import { restoreAnalysis } from '../../parallel/tasks.js';
import { summaryJsonStreamed, summaryTextPieces } from '../../report/summary.js';
import { captureSettings, jobsOf, plainSettings } from '../options.js';
import { output } from '../output.js';
import { compileFilterOption } from '../display-options.js';
import { planWrite, runWrite, type WriteFlags } from '../write-options.js';

interface SummaryOptions extends WriteFlags { json?: boolean; filter?: string; port: string; keylog?: string[]; jobs?: string }

export async function runSummary(args: string[], opts: SummaryOptions): Promise<void> {
  const filter = compileFilterOption(opts.filter);
  const jobs = jobsOf(opts);
  const captures = await expandCaptures(args);
  const settings = captureSettings(opts);
  const write = planWrite(opts, captures, filter !== null);
  const inputs = captures.map((path) => ({ path, settings: plainSettings(settings), filter: opts.filter, keepSelected: write !== null }));
  const analyses: CaptureAnalysis[] = [];
  let i = 0;
  // Analysed in this thread, the analysis is used as it is, not copied (the copy doubled the peak).
  for await (const r of inOrder('analysis', inputs, jobs, undefined, settings, { copyInThread: false })) {
    analyses.push(restoreAnalysis(r.analysis));
    if (write) await runWrite(write, captures[i]!, r.selected, settings);
    i++;
  }
  if (opts.json) {
    await output.json(summaryJsonStreamed(analyses));
    return;
  }
  for (const a of analyses) {
    for (const piece of summaryTextPieces(a)) output.write(piece);
    output.warnings(a.warnings, a.capture.path);
  }
}
