import { lifetimeTime } from '../analysis/concurrency.js';
import { readRows, type SpilledRows } from '../analysis/connection-rows.js';
import type { TimePoint } from '../tcp/types.js';
import { jsonText, RawJson } from '../util/json.js';
import { secondsBetween } from '../util/time.js';
import { seconds } from './format.js';
import type { Cell } from './table.js';

/**
 * Rows of the per-connection views (summary, streams) made once each connection's record is final and written to a
 * file (SpilledRows), then read back as the view is written: what is made for each view, and how it is read.
 */

/** What a row is made for: the JSON document (naming its capture when there are several), or the text table. */
export type RowKind = { json: true; capture?: string } | { json: false };

/** The documents' indent (output.json): a spilled JSON row is serialised with it once, and written as it is. */
const JSON_INDENT = 2;

/**
 * A row, serialised: the JSON row, or the text row's cells made without t0 (their start column empty: it counts from
 * the capture's earliest timestamp, known at its end, and is filled in as the rows are read, spilledCells).
 */
export function spilledRow(kind: RowKind, json: () => object, cells: (t0: null) => Cell[]): string {
  return kind.json ? jsonText(json(), JSON_INDENT) : JSON.stringify(cells(null));
}

/** Spilled JSON rows, in the order the connections opened, for jsonPieces to write as they are. */
export function* spilledJson(rows: SpilledRows): Generator<RawJson> {
  for (const text of readRows(rows)) yield new RawJson(text, JSON_INDENT);
}

/** Spilled text rows in `order` (indices of rows.lifetimes; by default as they opened), their start column filled in. */
export function* spilledCells(rows: SpilledRows, startColumn: number, t0: TimePoint | null, order?: ArrayLike<number>): Generator<Cell[]> {
  let k = 0;
  for (const text of readRows(rows, order)) {
    const cells = JSON.parse(text) as Cell[];
    const i = order ? order[k]! : k;
    cells[startColumn] = startCell(t0, lifetimeTime(rows.lifetimes, i));
    k++;
    yield cells;
  }
}

/** A table's start column: since the capture's earliest timestamp (t0). */
export function startCell(t0: TimePoint | null, start: TimePoint): string {
  return t0 ? `+${seconds(secondsBetween(t0, start))}` : '';
}
