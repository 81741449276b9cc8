import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { GatheredWriter } from './gathered-writer.js';
import { float64List, listValues, pushValue, type Float64List } from './typed-list.js';

/** Numbers a list holds in memory before they go out as a chunk: 12 KiB of them (a list's tail grows up to it). */
export const CHUNK_VALUES = 3 * 512;

/**
 * One list of a ChunkSpool: its latest numbers, and where the earlier ones went, a chunk of CHUNK_VALUES each (an offset
 * in the spool's file, or the chunk itself when there is no file).
 */
export interface ChunkedList {
  tail: Float64List;
  chunks: (number | Float64Array)[];
}

/**
 * Many lists of numbers, each appended to a few at a time and read once, whole (compare's numbers of each exchange and
 * FETCH step of a connection still open, read when the connection is drained). A list grows in memory up to a chunk;
 * each full chunk goes to the file, or without one (no scratch directory) is held as it is. Nothing is copied as a
 * list grows past a chunk, and with a file, what the lists hold in memory is bounded by their number, not by how
 * long the connections they stand for have been open: 100 connections of 10,000 commands each, open to the end,
 * kept 48 bytes a command.
 */
export class ChunkSpool {
  private readonly writer: GatheredWriter | null;
  private readFd: number | null = null;

  /** `file` must not exist; remove() removes it. */
  constructor(file: string | null, private readonly chunkValues = CHUNK_VALUES) {
    this.writer = file === null ? null : new GatheredWriter(file);
  }

  /** A new list, holding these numbers (a short list's, moving here as it grows). */
  list(values: readonly number[] = []): ChunkedList {
    const list: ChunkedList = { tail: float64List(Math.min(this.chunkValues, Math.max(16, 2 * values.length))), chunks: [] };
    for (const value of values) this.push(list, value);
    return list;
  }

  push(list: ChunkedList, value: number): void {
    pushValue(list.tail, value);
    if (list.tail.size < this.chunkValues) return;
    const chunk = listValues(list.tail);
    if (this.writer) {
      list.chunks.push(this.writer.size);
      this.writer.writeOctets(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } else list.chunks.push(chunk.slice());
    list.tail.size = 0;
  }

  /** How many numbers the list holds. */
  size(list: ChunkedList): number {
    return list.chunks.length * this.chunkValues + list.tail.size;
  }

  /** Every number of the list, in the order pushed: its chunks read back, then its tail. */
  values(list: ChunkedList): Float64Array {
    const out = new Float64Array(this.size(list));
    list.chunks.forEach((chunk, k) => {
      if (typeof chunk === 'number') this.readChunk(chunk, out.subarray(k * this.chunkValues, (k + 1) * this.chunkValues));
      else out.set(chunk, k * this.chunkValues);
    });
    out.set(listValues(list.tail), list.chunks.length * this.chunkValues);
    return out;
  }

  /** Done, or the pass failed: the file is closed and removed. */
  remove(): void {
    if (!this.writer) return;
    if (this.readFd !== null) closeSync(this.readFd);
    this.readFd = null;
    this.writer.close();
    rmSync(this.writer.path, { force: true });
  }

  private readChunk(position: number, into: Float64Array): void {
    const writer = this.writer!;
    // The chunk may still be gathered in the writer's buffer.
    writer.flush();
    this.readFd ??= openSync(writer.path, 'r');
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    for (let got = 0; got < bytes.length;) {
      const n = readSync(this.readFd, bytes, got, bytes.length - got, position + got);
      if (n === 0) throw new Error(`${writer.path}: ended ${bytes.length - got} bytes early`);
      got += n;
    }
  }
}
