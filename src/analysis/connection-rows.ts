import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { float64List, listValues, pushValue, uint32List } from '../util/typed-list.js';
import type { LateChanges } from '../tcp/types.js';
import { LifetimeColumns, type Lifetime, type Lifetimes } from './concurrency.js';

/** Rows in a file, in the order a view reads them: row i is lengths[i] bytes at offsets[i]. Plain data: it crosses threads. */
export interface RowPlaces {
  path: string;
  offsets: Float64Array;
  lengths: Uint32Array;
}

/**
 * A view's rows, one per connection, written to a file as the connections close, with what the view still needs in
 * memory: each connection's lifetime (concurrency, order by start, the late fields of its row) and where its row is,
 * about 70 bytes per connection rather than its record (0.8 KiB).
 */
export interface SpilledRows extends RowPlaces {
  /** In the order the connections opened (by id), as the rows are. */
  lifetimes: Lifetimes;
}

/** Rows are written in batches of about this many bytes. */
const WRITE_BATCH = 64 * 1024;
/** Rows are read in windows of at least this many bytes: rows asked for in about the order they were written cost one read per window. */
const READ_WINDOW = 16 * 1024;

/** Rows of text appended to a file (made private to the user), each found again by its number. */
export class RowFile {
  private readonly fd: number;
  private readonly pending: string[] = [];
  private pendingBytes = 0;
  private written = 0;
  /** Where each row is (outside the collected heap: 12 bytes per connection; a row is far below 4 GiB). */
  private readonly offsets = float64List(64);
  private readonly lengths = uint32List(64);

  /** `path` must not exist yet. */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'wx', 0o600);
  }

  add(row: string): void {
    const length = Buffer.byteLength(row);
    pushValue(this.offsets, this.written + this.pendingBytes);
    pushValue(this.lengths, length);
    this.pending.push(row);
    this.pendingBytes += length;
    if (this.pendingBytes >= WRITE_BATCH) this.flush();
  }

  /** The rows of these numbers, in this order (by default all, as they were added); the file is complete. */
  finish(order?: readonly number[]): RowPlaces {
    this.flush();
    closeSync(this.fd);
    const offsets = listValues(this.offsets);
    const lengths = listValues(this.lengths);
    if (!order) return { path: this.path, offsets, lengths };
    return { path: this.path, offsets: Float64Array.from(order, (i) => offsets[i]!), lengths: Uint32Array.from(order, (i) => lengths[i]!) };
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join(''));
    this.written += this.pendingBytes;
    this.pending.length = 0;
    this.pendingBytes = 0;
  }
}

/**
 * Writes connections' rows as they close (in any order); finish() gives them back in the order the connections opened.
 * A row is written at its connection's close, without what later segments still change (its last frame and end): those
 * are kept in the lifetime columns, settled when the connection is retired, and put in as the row is read.
 */
export class RowWriter {
  private readonly file: RowFile;
  private readonly lifetimes = new LifetimeColumns();
  /** Rows of connections not retired yet, by connection id (as many as linger in the TCP index). */
  private readonly unsettled = new Map<number, number>();

  /** `path` must not exist yet. */
  constructor(path: string) {
    this.file = new RowFile(path);
  }

  get path(): string {
    return this.file.path;
  }

  /** A connection closed: its row, and its lifetime as it is now. */
  add(conn: Lifetime, row: string): void {
    this.unsettled.set(conn.id, this.lifetimes.push(conn));
    this.file.add(row);
  }

  /** StreamSink.retired: the connection's last frame and end are final (a connection without a row is ignored). */
  readonly settle = (late: LateChanges): void => {
    const i = this.unsettled.get(late.id);
    if (i === undefined) return;
    this.unsettled.delete(late.id);
    this.lifetimes.settle(i, late);
  };

  /** The rows of the connections `keep` accepts, in the order the connections opened; the file is complete. */
  finish(keep: (id: number) => boolean = () => true): SpilledRows {
    const ids = this.lifetimes.ids;
    const order: number[] = [];
    for (let i = 0; i < ids.length; i++) if (keep(ids[i]!)) order.push(i);
    // Connections close in about the order they opened: most often nothing moves, and nothing is copied.
    if (order.some((i, k) => k > 0 && ids[order[k - 1]!]! > ids[i]!)) order.sort((a, b) => ids[a]! - ids[b]!);
    const asAdded = order.length === ids.length && order.every((i, k) => i === k);
    return { ...this.file.finish(asAdded ? undefined : order), lifetimes: this.lifetimes.take(asAdded ? undefined : order) };
  }
}

/** The rows, in `order` (indices into the places; by default in their order), read from the file as they are asked for. */
export function* readRows(rows: RowPlaces, order?: ArrayLike<number>): Generator<string> {
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
