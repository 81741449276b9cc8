import { expandCaptures } from '../../fleet/walk.js';
import type { SpilledRows } from '../../analysis/connection-rows.js';
import type { CaptureAnalysis } from '../../analysis/analyzer.js';
import { inOrder } from '../../parallel/pool.js';
import { restoreAnalysis } from '../../parallel/tasks.js';
import { summaryJsonStreamed, summaryTextPieces } from '../../report/summary.js';
import type { SelectedCapture } from '../selected-capture.js';
import { rowFiles } from '../spill.js';
import { captureSettings, jobsOf, plainSettings } from '../options.js';
import { captureSizes, jobsFor } from '../../parallel/jobs.js';
import { output } from '../output.js';
import { compileFilterOption } from '../display-options.js';
import { planWrite, runWrite, type WriteFlags } from '../write-options.js';

interface SummaryOptions extends WriteFlags { json?: boolean; filter?: string; port: string; keylog?: string[]; jobs?: string }

export async function runSummary(args: string[], opts: SummaryOptions): Promise<void> {
  const filter = compileFilterOption(opts.filter);
  const requested = jobsOf(opts);
  const captures = await expandCaptures(args);
  const sizes = captureSizes(captures);
  const jobs = jobsFor(requested, captures, sizes);
  const settings = captureSettings(opts);
  const write = planWrite(opts, captures, filter !== null);
  const files = rowFiles(captures, Boolean(opts.json), write !== null);
  const inputs = captures.map((path, n): SelectedCapture => ({ path, settings: plainSettings(settings), filter: opts.filter, keepSelected: write !== null, spill: files.spill(n) }));
  const analyses: CaptureAnalysis[] = [];
  const rows: (SpilledRows | null)[] = [];
  let i = 0;
  try {
    // Analysed in this thread, the analysis is used as it is, not copied (the copy doubled the peak).
    for await (const r of inOrder('analysis', inputs, jobs, undefined, settings, { copyInThread: false, sizes })) {
      analyses.push(restoreAnalysis(r.analysis));
      rows.push(r.rows);
      if (write) await runWrite(write, captures[i]!, r.selected, settings);
      i++;
    }
    if (opts.json) {
      await output.json(summaryJsonStreamed(analyses, rows));
      return;
    }
    for (const [n, a] of analyses.entries()) {
      await output.pieces(summaryTextPieces(a, rows[n]));
      output.warnings(a.warnings, a.capture.path);
    }
  } finally {
    files.dir?.remove();
  }
}
