import { KNOWN_COMMAND_NAMES } from '../imap/command.js';
import { CappedNames } from '../util/capped-names.js';

/**
 * Command shapes and FETCH item sets compare tells apart, per capture: a client that names a mailbox or a header field
 * of its own in each command makes a shape of its own each time, and each was kept, with the sequences that hold it
 * (200,000 such FETCH commands took `compare --json` to 335 MiB).
 */
export const MAX_SHAPES = 10_000;
export const MAX_ITEM_SETS = 10_000;

/** What distinctShapes().row gives past the cap; the shape compared is then the command's name and " …". */
export const OTHER_SHAPES = '(other shapes)';
export const OTHER_ITEM_SETS = '(other item sets)';

/** A command without arguments is its own shape, however many others there are. */
export function distinctShapes(): CappedNames {
  return new CappedNames(MAX_SHAPES, OTHER_SHAPES, KNOWN_COMMAND_NAMES);
}

export function distinctItemSets(): CappedNames {
  return new CappedNames(MAX_ITEM_SETS, OTHER_ITEM_SETS);
}

export function otherShapesWarning(shape: string, name: string): string {
  return `more than ${MAX_SHAPES} different command shapes (the cap on those compare tells apart): ${JSON.stringify(shape)} and every later new one are compared by their command's name alone, as ${JSON.stringify(`${name} …`)}`;
}

export function otherItemSetsWarning(items: string): string {
  return `more than ${MAX_ITEM_SETS} different FETCH item sets (the cap on those compare tells apart): ${JSON.stringify(items)} and every later new one are compared as one, "${OTHER_ITEM_SETS}"`;
}
