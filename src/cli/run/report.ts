import { renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { buildReportData } from '../../report/html/report.js';
import { reportPagePieces } from '../../report/html/template.js';
import { GatheredWriter } from '../../util/gathered-writer.js';
import { escapeText } from '../../util/escape.js';
import { UsageError } from '../errors.js';
import { openInto, OTHER_DEVICE, outputTarget } from '../output-target.js';
import { output } from '../output.js';
import { compileFilterOption } from '../display-options.js';
import { Selection } from '../selection.js';
import { capturePipeline, captureSettings } from '../options.js';
import { spillBudget, spillDirectory } from '../spill.js';

interface ReportOptions { output: string; title?: string; filter?: string; port: string; keylog?: string[] }

export async function runReport(captures: string[], opts: ReportOptions): Promise<void> {
  const settings = captureSettings(opts);
  const filter = compileFilterOption(opts.filter);
  checkOutput(opts.output);
  const budget = spillBudget();
  // Fetched messages beyond the budget are sorted through a private temporary directory, as `fetches` does, and each
  // connection's row waits there from its end until the page is written.
  const spillDir = spillDirectory('sort fetched messages and write connection rows through', 'every message and connection row');
  try {
    const data = await buildReportData(captures, capturePipeline(settings), filter ? () => {
      const selection = new Selection(filter);
      return { firstFrame: (t) => { selection.t0 = t; }, exchange: (ex, info) => selection.exchange(ex, info), shows: (c) => selection.selectsDrained(c) };
    } : undefined, { spill: spillDir ? { budget, dir: spillDir.path } : undefined });
    const page = reportPagePieces(data, opts.title ?? `imapscope report: ${captures.map((c) => basename(c)).join(', ')}`);
    if (opts.output === '-') await output.pieces(page);
    else if (!(await writeWhole(opts.output, page))) return;
    for (const cap of data.captures) {
      const count = cap.warnings.length + cap.warningsOmitted;
      if (count) output.note(`imapscope: ${escapeText(cap.path)}: ${count} warning(s), listed in the report`);
    }
  } finally {
    spillDir?.remove();
  }
}

/** Fail before the (possibly long) analysis when the file cannot be written there. */
function checkOutput(path: string): void {
  if (path === '-') return;
  const dir = dirname(path);
  const isDir = (p: string) => {
    try { return statSync(p).isDirectory(); } catch { return null; }
  };
  if (isDir(dir) !== true) throw new UsageError(`-o ${path}: the directory ${dir} does not exist`);
  if (isDir(path) === true) throw new UsageError(`-o ${path}: is a directory; name the HTML file to write`);
  if (outputTarget(path) === 'other-device') throw new UsageError(`-o ${path}: ${OTHER_DEVICE}`);
}

/**
 * Write next to the target and rename over it: a reader never sees half a report, and a link at the target is replaced,
 * not followed. A pipe, a terminal or /dev/null there is written into instead (outputTarget; checkOutput refused
 * anything else), once a pipe has its reader (Ctrl-C ends that wait: false, nothing written).
 */
async function writeWhole(path: string, pieces: Iterable<string>): Promise<boolean> {
  const into = outputTarget(path) === 'into';
  const target = into ? path : join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const opened = into ? await openInto(path, output.stopSignal) : undefined;
    if (opened === null) {
      output.interruptedMeans(`report interrupted while ${escapeText(path)} waited for a reader; nothing was written`);
      return false;
    }
    const file = new GatheredWriter(target, 0o666, opened);
    try {
      for (const piece of pieces) file.write(piece);
    } finally {
      file.close();
    }
    if (!into) renameSync(target, path);
    return true;
  } catch (err) {
    if (!into) rmSync(target, { force: true });
    throw new UsageError(`-o ${path}: ${(err as Error).message}`);
  }
}
