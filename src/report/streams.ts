import type { StreamsResult } from '../analysis/streams.js';
import type { SpilledRows } from '../analysis/connection-rows.js';
import type { Connection, TimePoint } from '../tcp/types.js';
import { LazyArray } from '../util/json.js';
import { isoTime, secondsBetween } from '../util/time.js';
import { bytesHuman, endpoint, jsonWarnings, seconds } from './format.js';
import { spilledCells, spilledJson, spilledRow, startCell, type RowKind } from './spilled-rows.js';
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
          if (rows) yield* spilledJson(rows); // the capture was written into the rows
          else for (const c of r.connections) yield connectionJson(c, multi ? r.capture.path : undefined);
        }
      },
    }),
    warnings: results.flatMap((r) => jsonWarnings(r.warnings).map((w) => (multi ? { capture: r.capture.path, ...w } : w))),
  };
}

function connectionJson(c: Connection, capture?: string): object {
  return {
    ...(capture !== undefined ? { capture } : {}),
    id: c.id,
    client: c.client,
    server: c.server,
    firstFrame: c.firstFrame,
    lastFrame: c.lastFrame,
    start: isoTime(c.start),
    end: isoTime(c.end),
    bytes: { client: c.stats.client.bytes, server: c.stats.server.bytes },
    gaps: {
      client: { count: c.stats.client.gaps, bytes: c.stats.client.gapBytes },
      server: { count: c.stats.server.gaps, bytes: c.stats.server.gapBytes },
    },
    state: c.state,
    midStream: !c.sawSyn,
  };
}

/** A connection's streams row, serialised once its record is final (streamsJson and streamsTextPieces read it back). */
export function streamRow(c: Connection, kind: RowKind): string {
  return spilledRow(kind, () => connectionJson(c, kind.json ? kind.capture : undefined), (t0) => connectionRow(c, t0));
}

const COLUMNS = ['id', { head: 'client', shrink: 2 }, { head: 'server', shrink: 2 }, 'frames', 'start', 'duration', 'C→S', 'S→C', 'gaps C/S', { head: 'state', shrink: 1 }];
/** The start column (startCell). */
const START_COLUMN = 4;

function connectionRow(c: Connection, t0: TimePoint | null): Cell[] {
  const gaps = (s: 'client' | 'server') => (c.stats[s].gaps ? `${c.stats[s].gaps} (${c.stats[s].gapBytes} B)` : '0');
  return [
    c.id,
    endpoint(c.client),
    endpoint(c.server),
    `${c.firstFrame}–${c.lastFrame}`,
    startCell(t0, c.start),
    seconds(secondsBetween(c.start, c.end)),
    bytesHuman(c.stats.client.bytes),
    bytesHuman(c.stats.server.bytes),
    `${gaps('client')} / ${gaps('server')}`,
    c.state + (c.sawSyn ? '' : ' (mid-stream)'),
  ];
}

export function streamsText(r: StreamsResult): string {
  return [...streamsTextPieces(r)].join('');
}

/** streamsText() in pieces, for writing as they are made: the table is never held whole. */
export function* streamsTextPieces(r: StreamsResult, spilled?: SpilledRows | null): Generator<string> {
  const t0 = r.capture.first;
  const count = spilled ? spilled.lifetimes.size : r.connections.length;
  yield `${r.capture.path}: ${r.capture.format}${r.capture.gzip ? ' (gzip)' : ''}, ${r.capture.frames} frames, ${count} IMAP connection(s)\n`;
  yield* tablePieces(COLUMNS, spilled ? () => spilledCells(spilled, START_COLUMN, t0) : function* () {
    for (const c of r.connections) yield connectionRow(c, t0);
  });
  yield '\n';
}
