import chalk from 'chalk';
import Table from 'cli-table3';
import { stripVTControlCharacters } from 'node:util';
import stringWidth from 'string-width';

/** A column: its header, how readily it gives up width (0 never; the highest is cut first), its alignment. */
export interface ColumnSpec {
  head: string;
  /** 0 (default): never cut. Columns with a higher number shrink first when the table is too wide. */
  shrink?: number;
  /** Default: right when every cell of the column is a number (with an optional unit), else left. */
  align?: 'left' | 'right';
}

export type Cell = string | number;

/** A shrinkable column is never cut below this many characters (or its natural width, if smaller). */
const MIN_CUT_WIDTH = 8;
/** cli-table3's frame: one space of padding each side of a cell, one border between and around cells. */
const PADDING = 2;
/** Without a frame (when a framed table cannot fit): no padding, one space between columns. */
const NO_FRAME = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: ' ',
};

let screenWidth: number | null = null;

/**
 * Tables are fitted to this many terminal columns; null (the default, and whenever the output is not a
 * terminal or --wide is given) means nothing is ever cut. Set once by the command line.
 */
export function setTableWidth(width: number | null): void {
  screenWidth = width !== null && Number.isFinite(width) && width > 0 ? Math.floor(width) : null;
}

/** How a table is drawn: each column's content width, and whether it has its frame. */
export interface Layout {
  widths: number[];
  framed: boolean;
}

/** The rendered width of a table whose cells are this wide (content only). */
export function tableWidth(layout: Layout): number {
  const { widths, framed } = layout;
  return framed ? widths.reduce((sum, w) => sum + w + PADDING + 1, 1) : widths.reduce((sum, w) => sum + w, Math.max(0, widths.length - 1));
}

/**
 * Column widths so that the table fits `width`: columns shrink by priority (the highest `shrink` first;
 * within one priority the widest first, one character at a time) down to their minimum. When even that
 * does not fit, the frame goes (a column of spaces instead of ' │ ') and the columns are laid out again.
 * Unshrinkable columns keep their natural width, so a table of only those may still overflow.
 * `width` null: natural widths, framed, nothing cut.
 */
export function layoutColumns(natural: readonly number[], shrink: readonly number[], width: number | null): Layout {
  if (width === null) return { widths: [...natural], framed: true };
  const framed = shrinkTo(natural, shrink, width, true);
  return tableWidth(framed) <= width ? framed : shrinkTo(natural, shrink, width, false);
}

function shrinkTo(natural: readonly number[], shrink: readonly number[], width: number, framed: boolean): Layout {
  const widths = [...natural];
  let excess = tableWidth({ widths, framed }) - width;
  const minimum = natural.map((n, i) => ((shrink[i] ?? 0) > 0 ? Math.min(n, MIN_CUT_WIDTH) : n));
  const levels = [...new Set(shrink.filter((s) => s > 0))].sort((a, b) => b - a);
  for (const level of levels) {
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if (shrink[i] !== level || widths[i]! <= minimum[i]!) continue;
        if (widest < 0 || widths[i]! > widths[widest]!) widest = i;
      }
      if (widest < 0) break;
      widths[widest]!--;
      excess--;
    }
  }
  return { widths, framed };
}

const NUMERIC = /^[+(]?-?\d[\d.,]*\)?(?: ?(?:ms|s|B|KiB|MiB|GiB|%))?$/;

/** A table that lays itself out when printed: fitted to the screen width, numbers right-aligned. */
export class FitTable {
  private readonly columns: ColumnSpec[];
  private readonly rows: string[][] = [];

  constructor(columns: readonly (string | ColumnSpec)[]) {
    this.columns = columns.map((c) => (typeof c === 'string' ? { head: c } : c));
  }

  push(...rows: Cell[][]): number {
    for (const row of rows) this.rows.push(row.map(String));
    return this.rows.length;
  }

  get length(): number {
    return this.rows.length;
  }

  toString(): string {
    const cellWidth = (s: string) => Math.max(0, ...s.split('\n').map((line) => stringWidth(line)));
    const natural = this.columns.map((c, i) => Math.max(stringWidth(c.head), ...this.rows.map((r) => cellWidth(r[i] ?? ''))));
    const { widths, framed } = layoutColumns(natural, this.columns.map((c) => c.shrink ?? 0), screenWidth);
    const coloured = chalk.level > 0;
    const padding = framed ? PADDING / 2 : 0;
    const table = new Table({
      head: this.columns.map((c) => c.head),
      colWidths: widths.map((w) => w + 2 * padding),
      colAligns: this.columns.map((c, i) => c.align ?? (this.isNumeric(i) ? 'right' : 'left')),
      style: { head: coloured ? ['cyan'] : [], border: coloured ? ['grey'] : [], 'padding-left': padding, 'padding-right': padding },
      // No rule between rows: long tables stay readable and half as tall.
      chars: framed ? { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } : NO_FRAME,
    });
    table.push(...this.rows);
    return table.toString();
  }

  private isNumeric(column: number): boolean {
    let any = false;
    for (const row of this.rows) {
      const text = stripVTControlCharacters(row[column] ?? '');
      if (text === '') continue;
      if (!NUMERIC.test(text)) return false;
      any = true;
    }
    return any;
  }
}
