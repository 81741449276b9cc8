import { compileFilter, type CompiledFilter, type CompileOptions } from '../filter/evaluate.js';
import { describeFilterError, FilterError } from '../filter/error.js';
import { lookupField, type FieldDef } from '../filter/fields.js';
import { applyLayoutOption, CSV_DEFAULT, FIELDS_DEFAULT, type FieldsLayout } from '../report/fields-output.js';
import type { TimeFormat } from '../report/time-format.js';
import { UsageError } from './errors.js';
import { output, type OutputFormat as AnyFormat } from './output.js';

/** The compiled -Y filter, or null; a bad one is a usage error showing the expression with ^ under the fault. */
export function compileFilterOption(expr: string | undefined, options: CompileOptions = {}): CompiledFilter | null {
  if (expr === undefined) return null;
  try {
    return compileFilter(expr, options);
  } catch (err) {
    if (err instanceof FilterError) {
      // The help hint ends the first line, so that the caret line stays under the expression.
      const [reason, ...picture] = describeFilterError(expr, err).split('\n');
      throw new UsageError([`-Y: ${reason}; ${output.helpHint()}`, ...picture].join('\n'), { hint: false });
    }
    throw err;
  }
}

/** The formats -T offers (output.ts's, less --raw). */
export type OutputFormat = Exclude<AnyFormat, 'raw'>;

export interface OutputFlags {
  T?: OutputFormat;
  e?: string[];
  E?: string[];
  t?: TimeFormat;
  json?: boolean;
  ndjson?: boolean;
}

export interface OutputChoice {
  format: OutputFormat;
  /** -e fields, or null for the view's own columns. */
  fields: FieldDef[] | null;
  fieldNames: string[];
  layout: FieldsLayout;
  time: TimeFormat;
}

export function outputChoice(opts: OutputFlags): OutputChoice {
  const synonyms = [opts.json ? 'json' : null, opts.ndjson ? 'ndjson' : null].filter((x): x is OutputFormat => x !== null);
  if (synonyms.length > 1 || (synonyms.length === 1 && opts.T && opts.T !== synonyms[0])) {
    throw new UsageError(`choose one output format (${[...synonyms.map((s) => `--${s}`), ...(opts.T ? [`-T ${opts.T}`] : [])].join(', ')} given)`);
  }
  const format: OutputFormat = opts.T ?? synonyms[0] ?? 'text';
  const names = opts.e ?? [];
  if (names.length && (format === 'json' || format === 'ndjson')) throw new UsageError(`-e: fields are columns of -T fields, csv or text, not of ${format}`);
  if (format === 'fields' && names.length === 0) throw new UsageError('-T fields needs at least one -e FIELD (imapscope fields lists them)');
  const fields = names.map((n) => {
    const f = lookupField(n);
    if (!f) throw new UsageError(`-e ${n}: no such field (imapscope fields lists them)`);
    return f;
  });
  const layout = { ...(format === 'csv' ? CSV_DEFAULT : FIELDS_DEFAULT) };
  // Several options may share one -E, comma-joined (header=y,separator=,): split only before a known key.
  for (const o of (opts.E ?? []).flatMap((e) => e.split(/,(?=(?:header|separator|quote|aggregator)=)/))) {
    if (format !== 'fields' && format !== 'csv') throw new UsageError('-E applies to -T fields and -T csv');
    const problem = applyLayoutOption(layout, o);
    if (problem) throw new UsageError(problem);
  }
  return { format, fields: names.length ? fields : null, fieldNames: names, layout, time: opts.t ?? 'r' };
}
