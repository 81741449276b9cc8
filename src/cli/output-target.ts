import { closeSync, constants, openSync, statSync, type Stats } from 'node:fs';
import { isatty } from 'node:tty';

/**
 * What an option that names a file to write (`report -o`, `check --junit`) finds at that path:
 * - 'into': a pipe, a terminal or /dev/null, directly or through a link (a FIFO, a shell's >(…), /dev/stdout,
 *   /dev/null): written into, as a shell's redirection does; a file made next to it and renamed over it would replace
 *   it (/dev/null itself, for root);
 * - 'other-device': any other device, directly or through a link, refused (OTHER_DEVICE): a link left in a shared
 *   directory must not send the output into a disk;
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
  if (found.isFIFO() || found.isSocket()) return 'into';
  if (found.isCharacterDevice() && (found.rdev === statSync('/dev/null').rdev || isTerminal(path))) return 'into';
  return 'other-device';
}

/** Why an 'other-device' target is refused, after its name. */
export const OTHER_DEVICE = 'is a device other than a terminal or /dev/null; name a file to write';

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
