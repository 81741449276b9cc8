import { exportDataset } from '../../fleet/export.js';
import type { DatasetFormat } from '../../fleet/dataset.js';
import { TABLE_NAMES } from '../../fleet/tables.js';
import { escapeText } from '../../util/escape.js';
import { captureSettings, plainSettings, jobsOf } from '../options.js';
import { output } from '../output.js';
import { spillBudget } from '../spill.js';

export async function runExport(inputs: string[], opts: { out: string; format: DatasetFormat; jobs?: string; port: string; keylog?: string[] }): Promise<void> {
  const settings = captureSettings(opts);
  const report = await exportDataset(inputs, opts.out, opts.format, jobsOf(opts), plainSettings(settings), spillBudget(), settings.signal);
  if (report.interrupted) {
    output.interruptedMeans(`export interrupted; nothing was added to ${escapeText(opts.out)}`);
    return;
  }
  for (const s of report.skipped) {
    output.note(`imapscope: ${escapeText(s.path)}: already in the dataset${s.sameAs ? ` (same content as ${escapeText(s.sameAs)})` : ''}; skipped`);
  }
  const rows = TABLE_NAMES.map((t) => `${report.rows[t]} ${t}`).join(', ');
  output.write(report.batch === null
    ? `nothing new: ${report.skipped.length} capture(s) already in ${escapeText(opts.out)}\n`
    : `added ${report.added.length} capture(s) to ${escapeText(opts.out)} as batch ${report.batch} (${rows}); ${report.skipped.length} already there\n`);
  if (output.interrupted) output.interruptedMeans('Ctrl-C came as the batch was moved into place; it was added whole');
}
