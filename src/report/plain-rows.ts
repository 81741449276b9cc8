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
  const cells = row.map((cell) => cell.split('\n'));
  const height = Math.max(1, ...cells.map((lines) => lines.length));
  const pad = ' '.repeat(style.padding);
  const out: string[] = [];
  for (let k = 0; k < height; k++) {
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      const width = style.widths[i]!;
      const text = cells[i]![k];
      line += (i === 0 ? style.left : style.middle) + pad + (text === undefined ? ' '.repeat(width) : aligned(cut(text, width), width, style.aligns[i]!)) + pad;
    }
    line += style.right;
    if (line.length > 0) out.push(line);
  }
  return out;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** stringWidth(), without its cost (it builds a regular expression per call) for printable ASCII: one column each. */
export function textWidth(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text);
}

/** cli-table3's truncate() for text without escape sequences: cut to `width` columns, ending in "…". */
function cut(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  const room = width - 1;
  if (room <= 0) return '…';
  // Its truncateWidth(): by UTF-16 units when each is one column, else one unit at a time from the end.
  if (text.length === textWidth(text)) return `${text.substring(0, room)}…`;
  let kept = text;
  while (textWidth(kept) > room) kept = kept.slice(0, -1);
  return `${kept}…`;
}

/** cli-table3's pad(): text wider than the column by more than one is left alone. */
function aligned(text: string, width: number, align: 'left' | 'right'): string {
  const length = textWidth(text);
  if (width + 1 < length) return text;
  const fill = ' '.repeat(Math.max(0, width - length));
  return align === 'right' ? fill + text : text + fill;
}
