import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { GatheredWriter } from '../util/gathered-writer.js';
import { float64List, listValues, pushValue, uint32List } from '../util/typed-list.js';
import type { Connection, LateChanges } from '../tcp/types.js';
import { Unsettled } from '../tcp/unsettled.js';
import { LifetimeColumns, type Lifetime, type Lifetimes } from './concurrency.js';

/** Rows in a file, in the order a view reads them: row i is lengths[i] bytes at offsets[i]. Plain data: it crosses threads. */
export interface RowPlaces {
  path: string;
  offsets: Float64Array;
  lengths: Uint32Array;
}

/**
 * A view's rows, one per connection, written to a file as the connections close, with what the view still needs in
 * memory at the end: each connection's lifetime (concurrency, order by start, the late fields of its row) and where its
 * row is, 50 bytes per connection rather than its record (0.8 KiB), made from the record file in RowWriter.finish().
 */
export interface SpilledRows extends RowPlaces {
  /** In the order the connections opened (by id), as the rows are. */
  lifetimes: Lifetimes;
}

/** Rows are read in windows of at least this many bytes: rows asked for in about the order they were written cost one read per window. */
const READ_WINDOW = 16 * 1024;

/** Rows of text appended to a file (made private to the user), each found again by its number. */
export class RowFile {
  private readonly writer: GatheredWriter;
  /** Where each row is (outside the collected heap: 12 bytes per row; a row is far below 4 GiB), in columns that grow where they stand. */
  private readonly offsets = float64List(64, true);
  private readonly lengths = uint32List(64, true);

  /** `path` must not exist yet. Without `keepPlaces` the rows' places are the caller's to keep (add returns each length). */
  constructor(readonly path: string, private readonly keepPlaces = true) {
    this.writer = new GatheredWriter(path);
  }

  /**
   * Append a row, given whole or as the pieces of its text (a report's ladder row of megabytes is never joined: such a
   * string is garbage only a full collection frees); returns its length in bytes.
   */
  add(row: string | readonly string[]): number {
    const offset = this.writer.size;
    let length = 0;
    if (typeof row === 'string') length = this.writer.write(row);
    else for (const piece of row) length += this.writer.write(piece);
    if (this.keepPlaces) {
      pushValue(this.offsets, offset);
      pushValue(this.lengths, length);
    }
    return length;
  }

  /** The rows of these numbers, in this order (by default all, as they were added); the file is complete. */
  finish(order?: readonly number[]): RowPlaces {
    this.close();
    const offsets = listValues(this.offsets);
    const lengths = listValues(this.lengths);
    if (!order) return { path: this.path, offsets, lengths };
    return { path: this.path, offsets: Float64Array.from(order, (i) => offsets[i]!), lengths: Uint32Array.from(order, (i) => lengths[i]!) };
  }

  /** Write what is gathered and close the file. */
  close(): void {
    this.writer.close();
  }
}

/**
 * What a RowWriter knows of each row, as fixed records in a file beside the rows: one when the row is added (its
 * connection's id, start, end and last frame as they are then, and the row's length), one when its connection is
 * settled (the final end and last frame). Read back once, at the end: during the pass memory holds none of it.
 */
const RECORD_BYTES = 48;
const ADDED = 1;
const SETTLED = 2;
/** Records read per system call. */
const RECORDS_PER_IO = 1365;

/** Field offsets in a record (kind, digits and index in every record; the rest as its kind says). */
const AT = { kind: 0, startDigits: 1, endDigits: 2, index: 4, id: 8, startNsec: 12, endNsec: 16, length: 20, startSec: 24, endSec: 32, lastFrame: 40 } as const;

/** Records appended to a new file, gathered into large writes: each is filled in blank() and written by append(). */
class RecordFile {
  private readonly writer: GatheredWriter;
  private readonly record = Buffer.alloc(RECORD_BYTES);

  constructor(path: string) {
    this.writer = new GatheredWriter(path);
  }

  get path(): string {
    return this.writer.path;
  }

  /** The next record, zeroed, to be filled (at offset 0) and then appended. */
  blank(): Buffer {
    return this.record.fill(0);
  }

  append(): void {
    this.writer.writeOctets(this.record);
  }

  close(): void {
    this.writer.close();
  }
}

/** Each record of a RecordFile, in the order written: the buffer and where in it the record is (valid until the next). */
function* readRecords(path: string): Generator<{ buffer: Buffer; at: number }> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(RECORD_BYTES * RECORDS_PER_IO);
    for (;;) {
      const got = readSync(fd, buffer, 0, buffer.length, null);
      if (got % RECORD_BYTES !== 0) throw new Error(`${path}: a record is cut at the end of the file`);
      for (let at = 0; at < got; at += RECORD_BYTES) yield { buffer, at };
      if (got < buffer.length) return;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes connections' rows as they close (in any order); finish() gives them back in the order the connections opened.
 * A row is written at its connection's close, without what later segments still change (its last frame and end): those
 * are settled when the connection is retired, and put in as the row is read. Each row's lifetime and place go to a
 * record file beside the rows (RecordFile): during the pass the writer holds only the connections not settled yet
 * (as many as linger in the TCP index), and the lifetime columns are made, at their exact size, in finish().
 */
export class RowWriter {
  private readonly file: RowFile;
  private readonly records: RecordFile;
  private count = 0;
  /** Rows of connections not retired yet, by connection id. */
  private readonly unsettled = new Unsettled<number>();

  /** `path` must not exist yet (nor `path` + "-lifetimes"). */
  constructor(path: string) {
    this.file = new RowFile(path, false);
    this.records = new RecordFile(`${path}-lifetimes`);
  }

  get path(): string {
    return this.file.path;
  }

  private closed = false;

  /** The pass failed before finish(): both files are closed unread (their descriptors go), if they were not yet. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.close();
    this.records.close();
  }

  /** Remove both files (once finished, and the rows read): for callers that reuse a directory. */
  remove(): void {
    rmSync(this.file.path, { force: true });
    rmSync(this.records.path, { force: true });
  }

  /** A connection closed: its row, and its lifetime as it is now. */
  add(conn: Lifetime & Pick<Connection, 'state'>, row: string | readonly string[]): void {
    const length = this.file.add(row);
    const index = this.count++;
    const record = this.records.blank();
    record[AT.kind] = ADDED;
    record.writeUInt32LE(index, AT.index);
    record.writeUInt32LE(conn.id, AT.id);
    record.writeUInt32LE(length, AT.length);
    record.writeDoubleLE(conn.start.sec, AT.startSec);
    record.writeUInt32LE(conn.start.nsec, AT.startNsec);
    record[AT.startDigits] = conn.start.digits;
    writeLate(record, 0, conn);
    this.records.append();
    this.unsettled.add(conn, index);
  }

  /** StreamSink.retired: the connection's last frame and end are final (a connection without a row is ignored). */
  readonly settle = (late: LateChanges): void => {
    const index = this.unsettled.take(late.id);
    if (index === undefined) return;
    const record = this.records.blank();
    record[AT.kind] = SETTLED;
    record.writeUInt32LE(index, AT.index);
    writeLate(record, 0, late);
    this.records.append();
  };

  /** The rows of the connections `keep` accepts, in the order the connections opened; the files are complete. */
  finish(keep: (id: number) => boolean = () => true): SpilledRows {
    this.closed = true;
    this.file.close();
    this.records.close();
    const columns = new LifetimeColumns(this.count);
    const offsets = new Float64Array(this.count);
    const lengths = new Uint32Array(this.count);
    let offset = 0;
    // One object filled again for every record: the columns copy its values.
    const scratch = { id: 0, lastFrame: 0, start: { sec: 0, nsec: 0, digits: 0 }, end: { sec: 0, nsec: 0, digits: 0 } };
    for (const { buffer, at } of readRecords(this.records.path)) {
      const index = buffer.readUInt32LE(at + AT.index);
      readLate(buffer, at, scratch);
      if (buffer[at + AT.kind] === SETTLED) {
        columns.settle(index, scratch);
        continue;
      }
      scratch.id = buffer.readUInt32LE(at + AT.id);
      scratch.start.sec = buffer.readDoubleLE(at + AT.startSec);
      scratch.start.nsec = buffer.readUInt32LE(at + AT.startNsec);
      scratch.start.digits = buffer[at + AT.startDigits]!;
      // Rows are added in the order of their records, so each lands at its own index.
      columns.push(scratch);
      lengths[index] = buffer.readUInt32LE(at + AT.length);
      offsets[index] = offset;
      offset += lengths[index]!;
    }
    const ids = columns.ids;
    const order: number[] = [];
    for (let i = 0; i < ids.length; i++) if (keep(ids[i]!)) order.push(i);
    // Connections close in about the order they opened: most often nothing moves, and nothing is copied.
    if (order.some((i, k) => k > 0 && ids[order[k - 1]!]! > ids[i]!)) order.sort((a, b) => ids[a]! - ids[b]!);
    if (order.length === ids.length && order.every((i, k) => i === k)) return { path: this.path, offsets, lengths, lifetimes: columns.take() };
    return {
      path: this.path, offsets: Float64Array.from(order, (i) => offsets[i]!), lengths: Uint32Array.from(order, (i) => lengths[i]!),
      lifetimes: columns.take(order),
    };
  }
}

/** A record's end and last frame. */
function writeLate(buffer: Buffer, at: number, late: Pick<LateChanges, 'lastFrame' | 'end'>): void {
  buffer.writeDoubleLE(late.end.sec, at + AT.endSec);
  buffer.writeUInt32LE(late.end.nsec, at + AT.endNsec);
  buffer[at + AT.endDigits] = late.end.digits;
  buffer.writeDoubleLE(late.lastFrame, at + AT.lastFrame);
}

function readLate(buffer: Buffer, at: number, into: { lastFrame: number; end: { sec: number; nsec: number; digits: number } }): void {
  into.end.sec = buffer.readDoubleLE(at + AT.endSec);
  into.end.nsec = buffer.readUInt32LE(at + AT.endNsec);
  into.end.digits = buffer[at + AT.endDigits]!;
  into.lastFrame = buffer.readDoubleLE(at + AT.lastFrame);
}

/** The rows, in `order` (indices into the places; by default in their order), read from the file as they are asked for. */
export function readRows(rows: RowPlaces, order?: ArrayLike<number>): Generator<string> {
  return readRowsIn(rows, order, Infinity) as Generator<string>;
}

/**
 * Bytes of a long row read and made text at a time by readRowPieces: a text of at most 64 KiB (two bytes a character
 * at most), below the size V8 puts in its large-object space, which only a full collection frees.
 */
export const ROW_PIECE_BYTES = 32 * 1024;

/**
 * readRows, a row longer than ROW_PIECE_BYTES given as the pieces of its text (a report's ladder row of 10,000 exchanges
 * is 3 MB): joined, they are the row.
 */
export function readRowPieces(rows: RowPlaces, order?: ArrayLike<number>): Generator<string | string[]> {
  return readRowsIn(rows, order, ROW_PIECE_BYTES);
}

function* readRowsIn(rows: RowPlaces, order: ArrayLike<number> | undefined, pieceBytes: number): Generator<string | string[]> {
  const fd = openSync(rows.path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(READ_WINDOW);
    let window = buffer.subarray(0, 0);
    let windowAt = 0;
    const count = order ? order.length : rows.offsets.length;
    for (let k = 0; k < count; k++) {
      const i = order ? order[k]! : k;
      const at = rows.offsets[i]!;
      const length = rows.lengths[i]!;
      if (length > pieceBytes) {
        yield piecesAt(fd, rows.path, at, length, pieceBytes);
        continue;
      }
      if (at < windowAt || at + length > windowAt + window.length) {
        if (buffer.length < length) buffer = Buffer.allocUnsafe(length);
        window = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, at));
        windowAt = at;
        if (window.length < length) throw new Error(`${rows.path}: a row ends past the end of the file`);
      }
      yield window.toString('utf8', at - windowAt, at - windowAt + length);
    }
  } finally {
    closeSync(fd);
  }
}

/** A long row's text in pieces of at most `pieceBytes` bytes each (a character cut between two reads goes to the next). */
function piecesAt(fd: number, path: string, at: number, length: number, pieceBytes: number): string[] {
  const decoder = new StringDecoder('utf8');
  const chunk = Buffer.allocUnsafe(pieceBytes);
  const pieces: string[] = [];
  for (let done = 0; done < length;) {
    const n = readSync(fd, chunk, 0, Math.min(pieceBytes, length - done), at + done);
    if (n === 0) throw new Error(`${path}: a row ends past the end of the file`);
    const text = decoder.write(chunk.subarray(0, n));
    if (text) pieces.push(text);
    done += n;
  }
  const rest = decoder.end();
  if (rest) pieces.push(rest);
  return pieces;
}
