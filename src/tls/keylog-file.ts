import { closeSync, openSync, readSync } from 'node:fs';
import { KeyLog, type KeyLogWarn } from './keylog.js';

/** Bytes of one key log file that are read; a longer file is used up to its last whole line before this. */
export const MAX_KEYLOG_FILE_BYTES = 256 * 1024 * 1024;

const CHUNK = 1024 * 1024;

/**
 * A key log file's secrets, read from at most `maxBytes` of it (`cut` says whether more followed), parsed a chunk of
 * whole lines at a time: its text is never whole in memory (a 94 MB one took three times its size to read, and was
 * kept for the run). Read in chunks rather than by its size, so a pipe (`--keylog <(…)`) works too. File system errors
 * are thrown as they are, for the caller to word.
 */
export function readKeyLogFile(path: string, warn: KeyLogWarn = () => {}, maxBytes = MAX_KEYLOG_FILE_BYTES): { keys: KeyLog; cut: boolean } {
  const fd = openSync(path, 'r');
  try {
    const keys = new KeyLog();
    const chunk = Buffer.allocUnsafe(CHUNK);
    /** The start of the line the chunks before ended in (copies: the chunk is read into again), joined at its end. */
    let carry: Buffer[] = [];
    let line = 1;
    let total = 0;
    let cut = false;
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      cut = total + n > maxBytes;
      const piece = chunk.subarray(0, cut ? maxBytes - total : n);
      total += piece.length;
      const end = piece.lastIndexOf(10) + 1;
      if (end > 0) {
        const lines = carry.length > 0 ? Buffer.concat([...carry, piece.subarray(0, end)]) : piece.subarray(0, end);
        line = keys.read(lines.toString('utf8'), line, warn);
        carry = [];
      }
      // A cut file ends on its last whole line, so no secret is taken half.
      if (cut) return { keys, cut };
      if (end < piece.length) carry.push(Buffer.from(piece.subarray(end)));
    }
    if (carry.length > 0) keys.read(Buffer.concat(carry).toString('utf8'), line, warn);
    return { keys, cut };
  } finally {
    closeSync(fd);
  }
}
