import { rowTimes, type RowTimes } from '../analysis/concurrency.js';
import { readRows, type SpilledRows } from '../analysis/connection-rows.js';
import type { TimePoint } from '../tcp/types.js';
import { jsonText, RawJson } from '../util/json.js';
import { secondsBetween } from '../util/time.js';
import { seconds } from './format.js';
import type { Cell } from './table.js';

/**
 * Rows of the per-connection views (summary, streams), written to a file (SpilledRows) as each connection closes and
 * read back as the view is written. At the close a record is final but for its last frame and end, which the last ACKs
 * still move: a row is written without them (and what derives from them), and completed from the connection's
 * RowTimes (kept in its lifetime columns) as it is read. A view made from records it holds goes the same way in one step.
 */

/** What a row is made for: the JSON document (naming its capture when there are several), or the text table. */
export type RowKind = { json: true; capture?: string } | { json: false };

/** How a view makes a connection's row in two steps: all but the late fields at the close, the late fields on reading. */
export interface RowParts<R> {
  /** The JSON row's fields before the late ones, the late ones, and those after (in that order in the row). */
  jsonHead(record: R, capture: string | undefined): object;
  jsonTimes(times: RowTimes): object;
  jsonTail(record: R): object;
  /** The text row's cells, the late ones (and the start, which counts from the capture's t0) left empty. */
  cells(record: R): Cell[];
  /** Put the late cells and the start into `cells`. */
  fillCells(cells: Cell[], times: RowTimes, t0: TimePoint | null): void;
}

/** The documents' indent (output.json): a spilled JSON row is serialised with it once, and written as it is. */
const JSON_INDENT = 2;

/** Between a spilled JSON row's head and tail: serialised JSON never holds a raw NUL (jsonText escapes it). */
const LATE_FIELDS = '\u0000';

/** The whole JSON row of a record the view holds. */
export function wholeJson<R>(parts: RowParts<R>, record: R, times: RowTimes, capture?: string): object {
  return { ...parts.jsonHead(record, capture), ...parts.jsonTimes(times), ...parts.jsonTail(record) };
}

/** The whole text row of a record the view holds. */
export function wholeCells<R>(parts: RowParts<R>, record: R, times: RowTimes, t0: TimePoint | null): Cell[] {
  const cells = parts.cells(record);
  parts.fillCells(cells, times, t0);
  return cells;
}

/** A row at its connection's close, serialised without its late fields. */
export function spilledRow<R>(parts: RowParts<R>, kind: RowKind, record: R): string {
  if (!kind.json) return JSON.stringify(parts.cells(record));
  return jsonText(parts.jsonHead(record, kind.capture), JSON_INDENT) + LATE_FIELDS + jsonText(parts.jsonTail(record), JSON_INDENT);
}

/** Spilled JSON rows, in the order the connections opened, completed, for jsonPieces to write as they are. */
export function* spilledJson<R>(rows: SpilledRows, parts: RowParts<R>): Generator<RawJson> {
  let i = 0;
  for (const text of readRows(rows)) {
    yield new RawJson(withLateFields(text, jsonText(parts.jsonTimes(rowTimes(rows.lifetimes, i++)), JSON_INDENT)), JSON_INDENT);
  }
}

/** Spilled text rows in `order` (indices of rows.lifetimes; by default as they opened), completed. */
export function* spilledCells<R>(rows: SpilledRows, parts: RowParts<R>, t0: TimePoint | null, order?: ArrayLike<number>): Generator<Cell[]> {
  let k = 0;
  for (const text of readRows(rows, order)) {
    const cells = JSON.parse(text) as Cell[];
    parts.fillCells(cells, rowTimes(rows.lifetimes, order ? order[k]! : k), t0);
    k++;
    yield cells;
  }
}

/**
 * The JSON text of head, late fields and tail as one object: each is an indented object text ("{\n  ...\n}"), and
 * their members are joined at the top level, as jsonText of the whole object writes them.
 */
function withLateFields(spilled: string, late: string): string {
  const cut = spilled.indexOf(LATE_FIELDS);
  return `${spilled.slice(0, cut - 2)},\n${late.slice(2, -2)},\n${spilled.slice(cut + 3)}`;
}

/** A table's start column: since the capture's earliest timestamp (t0). */
export function startCell(t0: TimePoint | null, start: TimePoint): string {
  return t0 ? `+${seconds(secondsBetween(t0, start))}` : '';
}

/** A table's duration column. */
export function durationCell(times: RowTimes): string {
  return seconds(secondsBetween(times.start, times.end));
}
