import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes read at a time. */
const READ_BYTES = 64 * 1024;

/**
 * A file's lines (without their newline), read a window at a time: each line is made a string on its own, never the
 * whole chunk as one. A line longer than the window grows it.
 */
export function* readLines(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(READ_BYTES);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) buffer = Buffer.concat([buffer], 2 * buffer.length);
      const n = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (n === 0) break;
      filled += n;
      let start = 0;
      for (let end = buffer.indexOf(10, start); end >= 0 && end < filled; start = end + 1, end = buffer.indexOf(10, start)) {
        yield buffer.toString('utf8', start, end);
      }
      buffer.copy(buffer, 0, start, filled);
      filled -= start;
    }
  } finally {
    closeSync(fd);
  }
}
