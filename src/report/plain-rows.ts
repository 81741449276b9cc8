import stringWidth from 'string-width';

/**
 * Body rows drawn line for line as cli-table3 0.6 draws them, for the case tables of thousands of rows are
 * in: no colour, no escape sequence in any cell, one cell per column, fixed column widths. cli-table3
 * spends about half a millisecond on each row (a regular expression built per cell line, options merged
 * per cell) and its layout is quadratic in the rows; a summary of 200,000 connections drew its table for
 * minutes. The head and the rules stay cli-table3's own (FitTable draws them); test/table-drawing.test.ts
 * holds the two drawings equal.
 */
export interface PlainRowStyle {
  /** Content width of each column (without padding). */
  widths: readonly number[];
  aligns: readonly ('left' | 'right')[];
  /** Spaces each side of a cell. */
  padding: number;
  /** The vertical rules: before the first cell, between cells, after the last. */
  left: string;
  middle: string;
  right: string;
}

/** Whether plainRowLines draws this row as cli-table3 would. */
export function isPlainRow(row: readonly string[], columns: number): boolean {
  return row.length === columns && !row.some((cell) => cell.includes('\u001b') || cell.includes('\u009b'));
}

/** The lines of one row: as many as its tallest cell has; a line with nothing on it is left out (as cli-table3 does). */
export function plainRowLines(row: readonly string[], style: PlainRowStyle): string[] {
  const pad = spaces(style.padding);
  // Most rows are one line: no cell is split.
  if (!row.some((cell) => cell.includes('\n'))) {
    const line = rowLine(style, pad, (i) => row[i]);
    return line.length > 0 ? [line] : [];
  }
  const cells = row.map((cell) => cell.split('\n'));
  const height = Math.max(1, ...cells.map((lines) => lines.length));
  const out: string[] = [];
  for (let k = 0; k < height; k++) {
    const line = rowLine(style, pad, (i) => cells[i]![k]);
    if (line.length > 0) out.push(line);
  }
  return out;
}

/** One drawn line of a row, from each column's text on it (undefined: the cell has no such line). */
function rowLine(style: PlainRowStyle, pad: string, textOf: (column: number) => string | undefined): string {
  let line = '';
  for (let i = 0; i < style.widths.length; i++) {
    const width = style.widths[i]!;
    const text = textOf(i);
    line += (i === 0 ? style.left : style.middle) + pad + (text === undefined ? spaces(width) : fitted(text, width, style.aligns[i]!)) + pad;
  }
  return line + style.right;
}

/** Space runs of the lengths columns use, made once. */
const SPACE_RUNS: string[] = [];

function spaces(n: number): string {
  return n < 256 ? (SPACE_RUNS[n] ??= ' '.repeat(n)) : ' '.repeat(n);
}

/**
 * Characters string-width counts as one column each, whatever follows them: printable ASCII, and what the views print
 * themselves besides (dashes, ellipsis, arrows, times, middle dot, superscript two, box and block drawing). Every row of
 * `streams` has an en dash ("12–340"): measured by string-width, 400,000 of them spent a sixth of the run there.
 */
export const ONE_COLUMN_EACH = /^[\x20-\x7e\u00b2\u00b7\u00d7\u2013\u2014\u2026\u2190\u2192\u2194\u21b3\u2502\u2588]*$/;

/** stringWidth(), without its cost (it builds a regular expression per call) for text of ONE_COLUMN_EACH's characters. */
export function textWidth(text: string): number {
  return ONE_COLUMN_EACH.test(text) ? text.length : stringWidth(text);
}

/** cli-table3's truncate() then pad(), for text without escape sequences, measuring the text once when it fits. */
function fitted(text: string, width: number, align: 'left' | 'right'): string {
  const length = textWidth(text);
  if (length <= width) return aligned(text, length, width, align);
  const cut = cutTo(text, width);
  return aligned(cut, textWidth(cut), width, align);
}

/** cli-table3's truncate() of text wider than `width`: cut to `width` columns, ending in "…". */
function cutTo(text: string, width: number): string {
  const room = width - 1;
  if (room <= 0) return '…';
  // Its truncateWidth(): by UTF-16 units when each is one column, else one unit at a time from the end.
  if (text.length === textWidth(text)) return `${text.substring(0, room)}…`;
  let kept = text;
  while (textWidth(kept) > room) kept = kept.slice(0, -1);
  return `${kept}…`;
}

/** cli-table3's pad() of text `length` columns wide: text wider than the column by more than one is left alone. */
function aligned(text: string, length: number, width: number, align: 'left' | 'right'): string {
  if (width + 1 < length) return text;
  const fill = spaces(Math.max(0, width - length));
  return align === 'right' ? fill + text : text + fill;
}
