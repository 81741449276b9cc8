import type { StreamsResult } from '../analysis/streams.js';
import type { SpilledRows } from '../analysis/connection-rows.js';
import type { Connection, TimePoint } from '../tcp/types.js';
import { LazyArray } from '../util/json.js';
import { isoTime } from '../util/time.js';
import { bytesHuman, endpoint, jsonWarnings } from './format.js';
import { durationCell, spilledCells, spilledJson, spilledRow, startCell, wholeCells, wholeJson, type RowKind, type RowParts } from './spilled-rows.js';
import { tablePieces, type Cell } from './table.js';

/** JSON twin of the streams table (schema: docs/schema/streams.schema.json), a plain document. */
export function streamsJson(results: readonly StreamsResult[]): object {
  return streamsDocument(results, [], (rows) => [...rows]);
}

/**
 * The same document with its rows made as it is written (jsonPieces): the same text. A capture's rows may have been
 * spilled as its connections ended (streamRow, 'json').
 */
export function streamsJsonStreamed(results: readonly StreamsResult[], spilled: readonly (SpilledRows | null)[] = []): object {
  return streamsDocument(results, spilled, (rows) => new LazyArray(() => rows));
}

function streamsDocument(results: readonly StreamsResult[], spilled: readonly (SpilledRows | null)[], hold: (rows: Iterable<object>) => object[] | LazyArray<object>): object {
  const multi = results.length > 1;
  return {
    captures: results.map((r) => ({ path: r.capture.path, format: r.capture.format, frames: r.capture.frames })),
    connections: hold({
      *[Symbol.iterator]() {
        for (const [i, r] of results.entries()) {
          const rows = spilled[i];
          if (rows) yield* spilledJson(rows, ROW); // the capture was written into the rows
          else for (const c of r.connections) yield connectionJson(c, multi ? r.capture.path : undefined);
        }
      },
    }),
    warnings: results.flatMap((r) => jsonWarnings(r.warnings).map((w) => (multi ? { capture: r.capture.path, ...w } : w))),
  };
}

function connectionJson(c: Connection, capture?: string): object {
  return wholeJson(ROW, c, c, capture);
}

/** A connection's streams row, serialised at its close (streamsJson and streamsTextPieces read it back and complete it). */
export function streamRow(c: Connection, kind: RowKind): string {
  return spilledRow(ROW, kind, c);
}

const COLUMNS = ['id', { head: 'client', shrink: 2 }, { head: 'server', shrink: 2 }, 'frames', 'start', 'duration', 'C→S', 'S→C', 'gaps C/S', { head: 'state', shrink: 1 }];

function connectionRow(c: Connection, t0: TimePoint | null): Cell[] {
  return wholeCells(ROW, c, c, t0);
}

/** The streams row; its JSON fields and its columns (COLUMNS) as they are made. */
const ROW: RowParts<Connection> = {
  jsonHead: (c, capture) => ({
    ...(capture !== undefined ? { capture } : {}),
    id: c.id,
    client: c.client,
    server: c.server,
    firstFrame: c.firstFrame,
  }),
  jsonTimes: (t) => ({
    lastFrame: t.lastFrame,
    start: isoTime(t.start),
    end: isoTime(t.end),
  }),
  jsonTail: (c) => ({
    bytes: { client: c.stats.client.bytes, server: c.stats.server.bytes },
    gaps: {
      client: { count: c.stats.client.gaps, bytes: c.stats.client.gapBytes },
      server: { count: c.stats.server.gaps, bytes: c.stats.server.gapBytes },
    },
    state: c.state,
    midStream: !c.sawSyn,
  }),
  cells: (c) => {
    const gaps = (s: 'client' | 'server') => (c.stats[s].gaps ? `${c.stats[s].gaps} (${c.stats[s].gapBytes} B)` : '0');
    return [
      c.id,
      endpoint(c.client),
      endpoint(c.server),
      c.firstFrame, // the frames column, completed with the last frame
      '',
      '',
      bytesHuman(c.stats.client.bytes),
      bytesHuman(c.stats.server.bytes),
      `${gaps('client')} / ${gaps('server')}`,
      c.state + (c.sawSyn ? '' : ' (mid-stream)'),
    ];
  },
  fillCells: (cells, t, t0) => {
    cells[3] = `${cells[3]}–${t.lastFrame}`;
    cells[4] = startCell(t0, t.start);
    cells[5] = durationCell(t);
  },
};

export function streamsText(r: StreamsResult): string {
  return [...streamsTextPieces(r)].join('');
}

/** streamsText() in pieces, for writing as they are made: the table is never held whole. */
export function* streamsTextPieces(r: StreamsResult, spilled?: SpilledRows | null): Generator<string> {
  const t0 = r.capture.first;
  const count = spilled ? spilled.lifetimes.size : r.connections.length;
  yield `${r.capture.path}: ${r.capture.format}${r.capture.gzip ? ' (gzip)' : ''}, ${r.capture.frames} frames, ${count} IMAP connection(s)\n`;
  yield* tablePieces(COLUMNS, spilled ? () => spilledCells(spilled, ROW, t0) : function* () {
    for (const c of r.connections) yield connectionRow(c, t0);
  });
  yield '\n';
}
