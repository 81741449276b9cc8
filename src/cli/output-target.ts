import { closeSync, constants, openSync, statSync, type Stats } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isatty } from 'node:tty';

/**
 * What an option that names a file to write (`report -o`, `check --junit`) finds at that path:
 * - 'into': a pipe, a terminal or /dev/null, directly or through a link (a FIFO, a shell's >(…), /dev/stdout,
 *   /dev/null): written into, as a shell's redirection does; a file made next to it and renamed over it would replace
 *   it (/dev/null itself, for root);
 * - 'other-device': anything else (a device, a socket), directly or through a link, refused (OTHER_DEVICE): a link
 *   left in a shared directory must not send the output into a disk;
 * - 'file': a file, a directory, a link to either, or nothing: the option's own rules apply.
 */
export function outputTarget(path: string): 'into' | 'other-device' | 'file' {
  let found: Stats;
  try {
    found = statSync(path);
  } catch {
    return 'file'; // nothing there, or a link to nothing
  }
  if (found.isFile() || found.isDirectory()) return 'file';
  if (found.isFIFO()) return 'into';
  if (found.isCharacterDevice() && (found.rdev === statSync('/dev/null').rdev || isTerminal(path))) return 'into';
  return 'other-device';
}

/** Why an 'other-device' target is refused, after its name. */
export const OTHER_DEVICE = 'is not a file, a pipe, a terminal or /dev/null; name a file to write';

/** How often a pipe without a reader is tried again. */
const READER_POLL_MS = 100;

/**
 * A descriptor to write into an 'into' target, or null if `stop` aborts first (Ctrl-C). A pipe's open waits for its
 * reader, as a shell's redirection does; a blocking open held the process past Ctrl-C, and one left waiting in Node's
 * thread pool would keep it from ending. So the pipe is tried without blocking (ENXIO: no reader yet) until it has a
 * reader, then opened for writing as usual (a write into a full pipe waits for the reader).
 */
export async function openInto(path: string, stop: AbortSignal): Promise<number | null> {
  for (;;) {
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      return openSync(path, 'w');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
    }
    try {
      await sleep(READER_POLL_MS, undefined, { signal: stop });
    } catch {
      return null; // stopped
    }
  }
}

function isTerminal(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    return isatty(fd);
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
