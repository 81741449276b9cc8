import { readSync, openSync, closeSync, rmSync } from 'node:fs';
import { GatheredWriter } from './gathered-writer.js';

export type SpooledType = Float64ArrayConstructor | Uint32ArrayConstructor;
type ColumnOf<T extends SpooledType> = InstanceType<T>;
export type SpooledRows<S extends Record<string, SpooledType>> = { [K in keyof S]: ColumnOf<S[K]> } & { size: number };

/** Rows gathered before they go to the file: 8,192 rows of 8-byte numbers make a 64 KiB block per column. */
const BLOCK_ROWS = 8192;

/**
 * Rows of numbers a view reads only at the end (compare's row per connection and per exchange), in columns. With a
 * file, they are appended to it a block at a time and read back whole at the end: while the capture is read, memory does
 * not grow with the sessions it closed. Without one (no scratch directory), the blocks are held; neither way copies
 * them as they grow.
 */
export class SpooledColumns<S extends Record<string, SpooledType>> {
  private readonly names: (keyof S & string)[];
  private block: ColumnOf<SpooledType>[];
  private filled = 0;
  /** Rows in full blocks, written or held. */
  private done = 0;
  private readonly writer: GatheredWriter | null;
  private readonly held: ColumnOf<SpooledType>[][] = [];

  /** `file` must not exist; take() removes it. */
  constructor(private readonly types: S, file: string | null, private readonly blockRows = BLOCK_ROWS) {
    this.names = Object.keys(types);
    this.block = this.newBlock();
    this.writer = file === null ? null : new GatheredWriter(file);
  }

  get size(): number {
    return this.done + this.filled;
  }

  /** One row: a value per column, in the order of the columns' names. */
  push(values: readonly number[]): void {
    const block = this.block;
    const i = this.filled;
    for (let k = 0; k < block.length; k++) block[k]![i] = values[k]!;
    if (++this.filled === this.blockRows) this.endBlock();
  }

  /** Every row, a column each; push no more. The file is read and removed. */
  take(): SpooledRows<S> {
    const size = this.size;
    const out = { size } as Record<string, ColumnOf<SpooledType> | number>;
    for (const [k, name] of this.names.entries()) {
      const column = new this.types[name]!(size);
      if (!this.writer) this.held.forEach((block, b) => column.set(block[k]!, b * this.blockRows));
      out[name] = column;
    }
    if (this.writer) this.readBack(out as Record<string, ColumnOf<SpooledType>>);
    const tail = this.done;
    this.names.forEach((name, k) => (out[name] as ColumnOf<SpooledType>).set(this.block[k]!.subarray(0, this.filled), tail));
    this.block = [];
    return out as SpooledRows<S>;
  }

  /** The pass failed: the file is closed and removed, unread. */
  abandon(): void {
    if (!this.writer) return;
    this.writer.close();
    rmSync(this.writer.path, { force: true });
  }

  private newBlock(): ColumnOf<SpooledType>[] {
    return this.names.map((name) => new this.types[name]!(this.blockRows));
  }

  private endBlock(): void {
    if (this.writer) for (const column of this.block) this.writer.writeOctets(new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
    else {
      this.held.push(this.block);
      this.block = this.newBlock();
    }
    this.done += this.blockRows;
    this.filled = 0;
  }

  /** The full blocks, from the file: each is its columns one after the other. */
  private readBack(out: Record<string, ColumnOf<SpooledType>>): void {
    const writer = this.writer!;
    writer.close();
    const fd = openSync(writer.path, 'r');
    try {
      let position = 0;
      for (let start = 0; start < this.done; start += this.blockRows) {
        for (const name of this.names) {
          const column = out[name]!;
          const bytes = this.blockRows * column.BYTES_PER_ELEMENT;
          const into = new Uint8Array(column.buffer, column.byteOffset + start * column.BYTES_PER_ELEMENT, bytes);
          for (let got = 0; got < bytes;) {
            const n = readSync(fd, into, got, bytes - got, position);
            if (n === 0) throw new Error(`${writer.path}: ended ${bytes - got} bytes early`);
            got += n;
            position += n;
          }
        }
      }
    } finally {
      closeSync(fd);
      rmSync(writer.path, { force: true });
    }
  }
}
