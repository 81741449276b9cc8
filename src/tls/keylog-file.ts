import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes of one key log file that are read; a longer file is used up to its last whole line before this. */
export const MAX_KEYLOG_FILE_BYTES = 256 * 1024 * 1024;

const CHUNK = 1024 * 1024;

/**
 * A key log file's text, at most `maxBytes` of it (`cut` says whether more followed). Read in chunks
 * rather than by its size, so a pipe (`--keylog <(…)`) works too. File system errors are thrown as
 * they are, for the caller to word.
 */
export function readKeyLogFile(path: string, maxBytes = MAX_KEYLOG_FILE_BYTES): { text: string; cut: boolean } {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    let cut = false;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      if (total + n > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - total));
        total = maxBytes;
        cut = true;
        break;
      }
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    const buf = Buffer.concat(chunks, total);
    // A cut file ends on its last whole line, so no secret is taken half.
    const end = cut ? buf.lastIndexOf(10) + 1 : total;
    return { text: buf.toString('utf8', 0, end), cut };
  } finally {
    closeSync(fd);
  }
}
