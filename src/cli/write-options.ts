import type { ImapConnection } from '../imap/model.js';
import type { PipelineOptions } from '../pipeline.js';
import { escapeText } from '../util/escape.js';
import { atMostNamed } from '../util/named.js';
import { WriteError, type OutputFormat } from '../write/capture-writer.js';
import { checkTarget, formatFor, TargetError, writeSelection } from '../write/write-selection.js';
import { UsageError } from './errors.js';
import { output } from './output.js';

export interface WriteFlags {
  w?: string;
  F?: OutputFormat;
  redact?: boolean;
  force?: boolean;
}

export interface WritePlan {
  target: string;
  format: OutputFormat;
  redact: boolean;
  force: boolean;
}

/** Checks -w before anything is read: it needs a selection and one capture, and never overwrites unasked. */
export function planWrite(flags: WriteFlags, captures: readonly string[], selecting: boolean): WritePlan | null {
  if (flags.w === undefined) {
    if (flags.redact || flags.F) throw new UsageError(`${flags.redact ? '--redact' : '-F'} applies to -w FILE`);
    return null;
  }
  if (!selecting) throw new UsageError('-w writes the connections a filter selects: give -Y EXPR or --conn ID');
  if (captures.length !== 1) throw new UsageError('-w: give exactly one capture');
  if (captures[0] === '-') throw new UsageError('-w reads the capture twice: give a file, not standard input');
  try {
    checkTarget(flags.w, Boolean(flags.force));
  } catch (err) {
    if (err instanceof TargetError) throw new UsageError(err.message);
    throw err;
  }
  return { target: flags.w, format: formatFor(flags.w, flags.F), redact: Boolean(flags.redact), force: Boolean(flags.force) };
}

/** The second pass: writes the selected connections, after refusing what --redact cannot honour. */
export async function runWrite(plan: WritePlan, capture: string, selected: readonly ImapConnection[], pipeline: PipelineOptions): Promise<void> {
  const hidden = selected.filter((c) => c.tls || c.compress);
  if (plan.redact && hidden.length) {
    const what = atMostNamed(hidden.map((c) => `connection ${c.conn.id} (${c.tls ? (c.tls.how === 'starttls' ? 'STARTTLS' : 'TLS') : 'COMPRESS'})`));
    if (!plan.force) {
      throw new UsageError(`--redact: credentials inside TLS or COMPRESS cannot be redacted in place: ${what}; nothing written (--force writes them with the encrypted or compressed part as captured)`);
    }
    output.note(`imapscope: --force: ${what} written with the encrypted or compressed part as captured (not redacted)`);
  }
  let report;
  try {
    report = await writeSelection({ capture, target: plan.target, format: plan.format, connections: selected.map((c) => c.conn), redact: plan.redact, pipeline });
  } catch (err) {
    if (err instanceof TargetError || err instanceof WriteError) throw new UsageError(err.message);
    throw err;
  }
  const what = `${report.frames} frame(s) of ${selected.length} connection(s) to ${escapeText(plan.target)} (${plan.format})`;
  const redaction = plan.redact ? `; ${report.secrets} credential(s) replaced in ${report.framesChanged} frame(s)` : '';
  output.note(`imapscope: wrote ${what}${redaction}`);
  if (report.checksumsLeft) output.note(`imapscope: ${report.checksumsLeft} changed frame(s) were cut by the snaplen: their TCP checksums could not be recomputed`);
  const clear = selected.filter((c) => c.cleartextAuth);
  if (!plan.redact && clear.length) output.note(`imapscope: the file holds clear-text credentials (connection ${atMostNamed(clear.map((c) => c.conn.id))}); --redact replaces them`);
}
