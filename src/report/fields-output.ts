import type { FieldDef, FieldValue, FilterRecord } from '../filter/fields.js';
import { escapeText } from '../util/escape.js';

/** tshark's -E: header=y|n, separator=/t|/s|<char>, quote=d|s|n, occurrence aggregator. */
export interface FieldsLayout {
  header: boolean;
  separator: string;
  quote: '' | '"' | "'";
  aggregator: string;
}

export const FIELDS_DEFAULT: FieldsLayout = { header: false, separator: '\t', quote: '', aggregator: ',' };
export const CSV_DEFAULT: FieldsLayout = { header: true, separator: ',', quote: '"', aggregator: ',' };

/** Apply `-E key=value` options over a default layout; returns an error message for a bad one. */
export function applyLayoutOption(layout: FieldsLayout, option: string): string | null {
  const eq = option.indexOf('=');
  const key = eq < 0 ? option : option.slice(0, eq);
  const value = eq < 0 ? '' : option.slice(eq + 1);
  switch (key) {
    case 'header':
      if (value !== 'y' && value !== 'n') return `-E header=${value}: use y or n`;
      layout.header = value === 'y';
      return null;
    case 'separator':
      if (value === '/t') layout.separator = '\t';
      else if (value === '/s') layout.separator = ' ';
      else if (value.length === 1) layout.separator = value;
      else return `-E separator=${value}: use /t, /s or one character`;
      return null;
    case 'quote':
      if (value === 'd') layout.quote = '"';
      else if (value === 's') layout.quote = "'";
      else if (value === 'n') layout.quote = '';
      else return `-E quote=${value}: use d, s or n`;
      return null;
    case 'aggregator':
      if (value === '/s') layout.aggregator = ' ';
      else if (value.length === 1) layout.aggregator = value;
      else return `-E aggregator=${value}: use /s or one character`;
      return null;
    default:
      return `-E ${option}: unknown (header, separator, quote, aggregator)`;
  }
}

/** One field value as text: durations in seconds with nanosecond digits (as tshark), booleans 1/0. */
export function fieldText(f: FieldDef, v: FieldValue): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (f.type === 'duration' && typeof v === 'number') return v.toFixed(9);
  return escapeText(String(v));
}

/** All values of a field in one cell, joined by the aggregator; empty when absent. */
export function cellText(f: FieldDef, r: FilterRecord, aggregator: string): string {
  const v = f.get(r);
  if (v === null) return '';
  return Array.isArray(v) ? v.map((x) => fieldText(f, x)).join(aggregator) : fieldText(f, v);
}

/** Writes rows of -e fields as tshark -T fields does (or CSV with its quoting). */
export class FieldsWriter {
  constructor(private readonly fields: readonly FieldDef[], private readonly names: readonly string[], private readonly layout: FieldsLayout) {}

  header(): string | null {
    return this.layout.header ? this.line(this.names) : null;
  }

  row(r: FilterRecord): string {
    return this.line(this.fields.map((f) => cellText(f, r, this.layout.aggregator)));
  }

  private line(cells: readonly string[]): string {
    const q = this.layout.quote;
    if (!q) return cells.join(this.layout.separator);
    // A quote inside a value is doubled, as CSV readers expect.
    return cells.map((c) => `${q}${c.split(q).join(q + q)}${q}`).join(this.layout.separator);
  }
}
