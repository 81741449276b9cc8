import type { Command } from 'commander';
import { Option } from 'commander';
import { exportDataset } from '../../fleet/export.js';
import type { DatasetFormat } from '../../fleet/dataset.js';
import { TABLE_NAMES } from '../../fleet/tables.js';
import { escapeText } from '../../util/escape.js';
import { captureSettings, plainSettings, jobsOf } from '../options.js';
import { captureOptions, jobsOption } from '../program.js';
import { output } from '../output.js';

export function registerExport(program: Command): void {
  jobsOption(captureOptions(program.command('export')
    .description('write a dataset of many captures (tables captures, connections, exchanges, fetches, warnings) as Parquet or NDJSON; again on a grown directory, adds only the new captures (docs/fleet.md)')
    .argument('<captures...>', 'capture files, or directories walked for captures (told by their magic bytes, not their names)')
    .requiredOption('--out <dir>', 'dataset directory (created if missing); nothing is written outside it')
    .addOption(new Option('--format <format>', 'file format of the tables').choices(['parquet', 'ndjson']).default('parquet'))))
    .action(async (inputs: string[], opts: { out: string; format: DatasetFormat; jobs?: string; port: string; keylog?: string[] }) => {
      const settings = captureSettings(opts);
      const report = await exportDataset(inputs, opts.out, opts.format, jobsOf(opts), plainSettings(settings));
      for (const s of report.skipped) {
        output.note(`imapscope: ${escapeText(s.path)}: already in the dataset${s.sameAs ? ` (same content as ${escapeText(s.sameAs)})` : ''}; skipped`);
      }
      const rows = TABLE_NAMES.map((t) => `${report.rows[t]} ${t}`).join(', ');
      output.write(report.batch === null
        ? `nothing new: ${report.skipped.length} capture(s) already in ${escapeText(opts.out)}\n`
        : `added ${report.added.length} capture(s) to ${escapeText(opts.out)} as batch ${report.batch} (${rows}); ${report.skipped.length} already there\n`);
    });
}
