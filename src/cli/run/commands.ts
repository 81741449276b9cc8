import { expandCaptures } from '../../fleet/walk.js';
import { inOrder } from '../../parallel/pool.js';
import { jsonText } from '../../util/json.js';
import { CSV_COLUMNS, fieldColumns } from '../commands-capture.js';
import { FieldsWriter } from '../../report/fields-output.js';
import { ConnectionChoice, capturePipeline, captureSettings, jobsOf, plainSettings } from '../options.js';
import { captureSizes, jobsFor } from '../../parallel/jobs.js';
import { output } from '../output.js';
import { compileFilterOption, outputChoice, type OutputFlags } from '../display-options.js';
import { planWrite, runWrite, type WriteFlags } from '../write-options.js';

interface CommandsOptions extends OutputFlags, WriteFlags {
  conn?: string;
  command?: string;
  filter?: string;
  showSecrets?: boolean;
  port: string;
  keylog?: string[];
  jobs?: string;
}

export async function runCommands(args: string[], opts: CommandsOptions): Promise<void> {
  // Every option is checked here, before any capture is read (a worker compiles them again).
  const conn = opts.conn !== undefined ? new ConnectionChoice(opts.conn) : null;
  const filter = compileFilterOption(opts.filter);
  const shown = outputChoice(opts);
  const requested = jobsOf(opts);
  const captures = await expandCaptures(args);
  const sizes = captureSizes(captures);
  const jobs = jobsFor(requested, captures, sizes);
  const settings = captureSettings(opts);
  const write = planWrite(opts, captures, conn !== null || filter !== null);
  const columns = fieldColumns(shown);
  const fieldsWriter = columns ? new FieldsWriter(columns, shown.fields ? shown.fieldNames : CSV_COLUMNS, shown.layout) : null;
  // The document (JSON, or the fields header) opens with its first exchange, so that a usage error (--conn) leaves stdout empty.
  let opened = false;
  const open = () => {
    if (opened) return;
    opened = true;
    if (shown.format === 'json') output.write('{"exchanges":[');
    else if (fieldsWriter && shown.format !== 'text') {
      const header = fieldsWriter.header();
      if (header !== null) output.write(`${header}\n`);
    }
  };
  let first = true;
  const sink = (channel: string, text: string) => {
    if (channel === 'stderr') output.note(text.replace(/\n$/, ''));
    else if (channel === 'row') {
      open();
      output.write(`${first ? '\n' : ',\n'}${text}`);
      first = false;
    } else if (channel === 'record') {
      open();
      output.write(text);
    } else output.write(text);
  };
  const flags: OutputFlags = { T: opts.T, e: opts.e, E: opts.E, t: opts.t, json: opts.json, ndjson: opts.ndjson };
  const inputs = captures.map((path) => ({
    path, settings: plainSettings(settings), multi: captures.length > 1, conn: opts.conn, filter: opts.filter, flags,
    command: opts.command?.toUpperCase().replace(/\s+/g, ' ') || null, showSecrets: Boolean(opts.showSecrets), keepSelected: write !== null,
  }));
  const allWarnings = [];
  let i = 0;
  for await (const r of inOrder('commands', inputs, jobs, sink, settings, { sizes })) {
    allWarnings.push(...r.warnings);
    if (write) await runWrite(write, captures[i]!, r.selected, capturePipeline(settings));
    i++;
  }
  open();
  if (shown.format === 'json') output.write(`\n],"warnings":${jsonText(allWarnings)}${output.interrupted ? ',"partial":true' : ''}}\n`);
}
