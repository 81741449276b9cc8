import { KNOWN_COMMAND_NAMES } from '../imap/command.js';
import { CappedNames, cappedNamesText, quotedName } from '../util/capped-names.js';

/**
 * Names the per-command figures (summary's table, the report's, compare's) list apart besides the known commands': a
 * client, or a hostile capture, can send a command of a new name each time, and a row costs its counts and latencies.
 */
export const MAX_OTHER_COMMAND_NAMES = 1000;

/** The row of the exchanges of every name past the cap. */
export const OTHER_COMMANDS = '(other commands)';

/** The rows of one tally of exchanges by command name. */
export function commandRows(): CappedNames {
  return new CappedNames(MAX_OTHER_COMMAND_NAMES, OTHER_COMMANDS, KNOWN_COMMAND_NAMES);
}

/** The warning of the first exchange counted in OTHER_COMMANDS. */
export function otherCommandsWarning(command: string): string {
  return `${cappedNamesText(MAX_OTHER_COMMAND_NAMES, "names of commands that are not IMAP's")} (the cap on those the per-command figures list apart): ${quotedName(command)} and every later new name are counted together as "${OTHER_COMMANDS}"`;
}
