import chalk from 'chalk';
import Table from 'cli-table3';
import { stripVTControlCharacters } from 'node:util';
import { isPlainRow, plainRowLines, textWidth, type PlainRowStyle } from './plain-rows.js';
import { fittedWidth } from './table-width.js';

export { setTableWidth } from './table-width.js';

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

/** Rows per cli-table3 drawing: its layout is quadratic in a drawing's rows, so long tables are drawn in slices. */
const ROWS_PER_DRAWING = 64;

/** A table that lays itself out when printed: fitted to the screen width, numbers right-aligned. */
export class FitTable {
  private readonly rows: string[][] = [];

  constructor(private readonly columns: readonly (string | ColumnSpec)[]) {}

  push(...rows: Cell[][]): number {
    for (const row of rows) this.rows.push(row.map(String));
    return this.rows.length;
  }

  get length(): number {
    return this.rows.length;
  }

  toString(): string {
    // The rows are held: drawn in one piece, without the generator tablePieces() needs for rows made as they are written.
    return new TableLayout(this.columns, this.rows).text(this.rows);
  }
}

/**
 * A FitTable's text in pieces, from rows made twice (once to measure them, once to draw them) rather than
 * held: a summary of 200,000 connections never keeps its table. Joined, the pieces are the text a FitTable
 * holding the same rows prints.
 */
export function tablePieces(spec: readonly (string | ColumnSpec)[], rows: () => Iterable<readonly Cell[]>): Generator<string> {
  return new TableLayout(spec, rows()).pieces(rows());
}

/** A table's head and rules as drawn without rows, and its frame's characters. */
interface Frame {
  empty: readonly string[];
  chars: Table.TableInstanceOptions['chars'];
}

/** A layout's head and bottom lines, and how its plain rows are drawn (null when coloured). */
interface Drawing {
  head: string[];
  bottom: string[];
  plain: PlainRowStyle | null;
}

/** Frames by layout (bounded: when full it starts over, which only costs drawing again). */
const frames = new Map<string, Frame>();
const MAX_FRAMES = 256;

/** What a table's columns are, found once per column list (a `fetches` listing makes a table per message from one list). */
interface Columns {
  specs: ColumnSpec[];
  /** Each head's width. */
  heads: number[];
  /** The heads as part of a frame's key. */
  key: string;
}

const columnsOf = new WeakMap<readonly (string | ColumnSpec)[], Columns>();

function columnsFor(spec: readonly (string | ColumnSpec)[]): Columns {
  let columns = columnsOf.get(spec);
  if (!columns) {
    const specs = spec.map((c) => (typeof c === 'string' ? { head: c } : c));
    columns = { specs, heads: specs.map((c) => textWidth(c.head)), key: specs.map((c) => c.head).join('\0') };
    columnsOf.set(spec, columns);
  }
  return columns;
}

/** A table's columns measured over its rows: widths, frame and alignments, and its drawing. */
export class TableLayout {
  private readonly columns: ColumnSpec[];
  private readonly headsKey: string;
  private readonly widths: number[];
  private readonly framed: boolean;
  private readonly aligns: ('left' | 'right')[];
  private readonly coloured = chalk.level > 0;

  constructor(spec: readonly (string | ColumnSpec)[], rows: Iterable<readonly Cell[]>) {
    const known = columnsFor(spec);
    this.columns = known.specs;
    this.headsKey = known.key;
    const cellWidth = (s: string) => (s.includes('\n') ? widestLine(s) : textWidth(s));
    const natural = known.heads.slice();
    const numeric = this.columns.map(() => new NumericColumn());
    for (const row of rows) {
      for (let i = 0; i < this.columns.length; i++) {
        const text = String(row[i] ?? '');
        natural[i] = Math.max(natural[i]!, cellWidth(text));
        numeric[i]!.see(text);
      }
    }
    ({ widths: this.widths, framed: this.framed } = layoutColumns(natural, this.columns.map((c) => c.shrink ?? 0), fittedWidth()));
    this.aligns = this.columns.map((c, i) => c.align ?? (numeric[i]!.numeric ? 'right' : 'left'));
  }

  private get padding(): number {
    return this.framed ? PADDING / 2 : 0;
  }

  private table(): Table.Table {
    const padding = this.padding;
    return new Table({
      head: this.columns.map((c) => c.head),
      colWidths: this.widths.map((w) => w + 2 * padding),
      colAligns: this.aligns,
      style: { head: this.coloured ? ['cyan'] : [], border: this.coloured ? ['grey'] : [], 'padding-left': padding, 'padding-right': padding },
      // No rule between rows: long tables stay readable and half as tall.
      chars: this.framed ? { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } : NO_FRAME,
    });
  }

  /** cli-table3's drawing of these rows in one piece, line by line. */
  draw(rows: readonly (readonly Cell[])[]): string[] {
    const table = this.table();
    table.push(...rows.map((row) => Array.from(row, String)));
    return table.toString().split('\n');
  }

  /**
   * The drawing without rows (head and rules) and the frame's characters. Tables of one kind, one per
   * message of a `fetches` listing, mostly share a layout: their frames are drawn once (building a
   * cli-table3 table twice per message cost more than everything else the listing does).
   */
  private frame(): Frame {
    // Asked once per table (a `fetches` listing draws one per message): joined, not serialised as JSON.
    const key = `${this.framed ? 'f' : '-'}${this.coloured ? 'c' : '-'}${this.aligns.map((a) => a[0]).join('')} ${this.widths.join(' ')}\0${this.headsKey}`;
    let frame = frames.get(key);
    if (!frame) {
      if (frames.size >= MAX_FRAMES) frames.clear();
      frame = { empty: this.draw([]), chars: this.table().options.chars };
      frames.set(key, frame);
    }
    return frame;
  }

  /**
   * The same text as draw(rows).join('\n'), in pieces: a drawing is its top rule and head, its rows and its
   * bottom rule (the rules only when framed). Head and rules come from a drawing without rows; rows are
   * drawn in slices, plain ones without cli-table3 (plain-rows.ts), and only their own lines kept.
   */
  *pieces(rows: Iterable<readonly Cell[]>): Generator<string> {
    const drawing = this.drawing();
    // The text is every drawn line joined by newlines (cli-table3 leaves out lines with nothing on them).
    let started = false;
    const joined = (lines: readonly string[]) => {
      if (lines.length === 0) return '';
      const text = `${started ? '\n' : ''}${lines.join('\n')}`;
      started = true;
      return text;
    };
    yield joined(drawing.head);
    let slice: string[][] = [];
    for (const row of rows) {
      slice.push(row.map(String));
      if (slice.length === ROWS_PER_DRAWING) {
        yield joined(this.bodyLines(slice, drawing));
        slice = [];
      }
    }
    if (slice.length > 0) yield joined(this.bodyLines(slice, drawing));
    yield joined(drawing.bottom);
  }

  /**
   * pieces(rows) joined, for rows that are all at hand (FitTable): one string, without a generator and its closures (a
   * `fetches` listing draws a small table per message, hundreds of thousands of them).
   */
  text(rows: readonly string[][]): string {
    const drawing = this.drawing();
    const lines = drawing.head.slice();
    for (let first = 0; first < rows.length; first += ROWS_PER_DRAWING) {
      const slice = rows.length <= ROWS_PER_DRAWING ? rows : rows.slice(first, first + ROWS_PER_DRAWING);
      for (const line of this.bodyLines(slice, drawing)) lines.push(line);
    }
    for (const line of drawing.bottom) lines.push(line);
    return lines.join('\n');
  }

  /** The head's lines (with the top rule), the bottom rule's, and how plain rows are drawn (null when coloured). */
  private drawing(): Drawing {
    const bottomLines = this.framed ? 1 : 0;
    const { empty, chars } = this.frame();
    const headLines = empty.length - bottomLines;
    const plain = this.coloured ? null : { widths: this.widths, aligns: this.aligns, padding: this.padding, left: chars.left, middle: chars.middle, right: chars.right };
    return { head: empty.slice(0, headLines), bottom: empty.slice(headLines), plain };
  }

  /** The lines of some rows (at most ROWS_PER_DRAWING): plain ones drawn here, others by cli-table3. */
  private bodyLines(slice: readonly string[][], drawing: Drawing): string[] {
    const plain = drawing.plain;
    if (plain && slice.every((row) => isPlainRow(row, this.columns.length))) return slice.flatMap((row) => plainRowLines(row, plain));
    const drawn = this.draw(slice);
    return drawn.slice(drawing.head.length, drawn.length - drawing.bottom.length);
  }
}

/** The width of a cell's widest line (a loop: a cell of 200,000 lines is more arguments than a call can take). */
function widestLine(cell: string): number {
  let widest = 0;
  for (const line of cell.split('\n')) widest = Math.max(widest, textWidth(line));
  return widest;
}

/** Whether a column holds numbers: some cell is one (with an optional unit) and every non-empty one is. */
class NumericColumn {
  private any = false;
  private other = false;

  see(cell: string): void {
    if (this.other) return;
    // Every escape sequence starts with ESC or CSI: a cell with neither is its own text.
    const text = cell.includes('\u001b') || cell.includes('\u009b') ? stripVTControlCharacters(cell) : cell;
    if (text === '') return;
    if (NUMERIC.test(text)) this.any = true;
    else this.other = true;
  }

  get numeric(): boolean {
    return this.any && !this.other;
  }
}
