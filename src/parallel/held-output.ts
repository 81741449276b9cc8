import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GatheredWriter } from '../util/gathered-writer.js';
import { makeTempDir, type TempDir } from '../util/temp-dir.js';

/** Text of one capture held in memory before the rest goes to a file. */
export const HELD_IN_MEMORY_CHARS = 4 * 1024 * 1024;

/** A record's head in the file: its channel's number (one octet) and its text's length in octets (four). */
const HEAD_OCTETS = 5;

/** Octets read from the file at a time when the output is replayed. */
const READ_OCTETS = 256 * 1024;

/**
 * The output of a capture that is not at the head yet, in the order emitted: its first HELD_IN_MEMORY_CHARS in memory,
 * the rest in a file of the pool's spill directory (`fileFor`; none when null), so that a worker can go on reading
 * while the captures ahead of it are written. The 20 MiB sync file's `fetches --json`, 42 MB, held in memory beside the
 * 100 MiB one's took the process from 101 to 187 MiB.
 */
export class HeldOutput {
  private readonly memory: [string, string][] = [];
  private inMemory = 0;
  /** Every character held, in memory or in the file. */
  chars = 0;
  private file: { writer: GatheredWriter; channels: string[] } | null = null;

  constructor(private readonly fileFor: () => string | null) {}

  /** Whether what comes next may go to a file (else the pool pauses the capture's job past its budget). */
  get spills(): boolean {
    return this.file !== null;
  }

  add(channel: string, text: string): void {
    this.chars += text.length;
    if (this.file === null && this.inMemory + text.length > HELD_IN_MEMORY_CHARS) this.openFile();
    if (this.file === null) {
      this.memory.push([channel, text]);
      this.inMemory += text.length;
      return;
    }
    const { writer, channels } = this.file;
    let n = channels.indexOf(channel);
    if (n < 0) n = channels.push(channel) - 1;
    const head = Buffer.allocUnsafe(HEAD_OCTETS);
    head.writeUInt8(n, 0);
    head.writeUInt32LE(Buffer.byteLength(text), 1);
    writer.writeOctets(head);
    writer.write(text);
  }

  private openFile(): void {
    const path = this.fileFor();
    if (path !== null) this.file = { writer: new GatheredWriter(path), channels: [] };
  }

  /** What was held, in order: the memory's, then the file's, read a block at a time. The file is removed after. */
  *replay(): Generator<[string, string]> {
    yield* this.memory;
    this.memory.length = 0;
    if (this.file === null) return;
    const { writer, channels } = this.file;
    writer.close();
    const fd = openSync(writer.path, 'r');
    try {
      let block = Buffer.allocUnsafe(READ_OCTETS);
      let start = 0;
      let end = 0;
      /** At least `count` octets from `start` in the block, reading on (false: the file ended). */
      const have = (count: number): boolean => {
        if (end - start >= count) return true;
        if (count > block.length) {
          const larger = Buffer.allocUnsafe(count);
          block.copy(larger, 0, start, end);
          block = larger;
        } else block.copy(block, 0, start, end);
        end -= start;
        start = 0;
        while (end < count) {
          const n = readSync(fd, block, end, block.length - end, null);
          if (n === 0) return false;
          end += n;
        }
        return true;
      };
      while (have(HEAD_OCTETS)) {
        const channel = channels[block.readUInt8(start)]!;
        const length = block.readUInt32LE(start + 1);
        start += HEAD_OCTETS;
        if (!have(length)) throw new Error(`held output: ${writer.path} ends inside a record`);
        yield [channel, block.toString('utf8', start, start + length)];
        start += length;
      }
    } finally {
      closeSync(fd);
      this.file = null;
      rmSync(writer.path, { force: true });
    }
  }

  /** The pool stops: the file, if any, is closed and removed unread. */
  discard(): void {
    this.memory.length = 0;
    if (this.file === null) return;
    this.file.writer.close();
    rmSync(this.file.writer.path, { force: true });
    this.file = null;
  }
}

/**
 * The pool's spill directory, made when the first capture's held output outgrows memory; null ever after when it
 * cannot be made (then output is held in memory, and a capture's job pauses past its budget, as without one).
 */
export class HeldOutputFiles {
  private dir: TempDir | null | undefined;
  private made = 0;

  /** `parent`: where the directory is made (the system's temporary directory by default). */
  constructor(private readonly parent?: string) {}

  readonly fileFor = (): string | null => {
    if (this.dir === undefined) {
      try {
        this.dir = makeTempDir('imapscope-held-', this.parent);
      } catch {
        this.dir = null;
      }
    }
    return this.dir === null ? null : join(this.dir.path, `held-${this.made++}`);
  };

  remove(): void {
    this.dir?.remove();
  }
}
