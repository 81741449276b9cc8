import { isKnownCommandName } from '../imap/command.js';

/**
 * Names the per-command figures (summary's table, the report's) list apart besides the known commands': a client, or
 * a hostile capture, can send a command of a new name each time, and a row costs its counts and latencies.
 */
export const MAX_OTHER_COMMAND_NAMES = 1000;

/** The row of the exchanges of every name past the cap; not an IMAP atom, so no command is named so. */
export const OTHER_COMMANDS = '(other commands)';

/**
 * The row a command's exchanges are counted in: its own, if it is a known command or one of the first
 * MAX_OTHER_COMMAND_NAMES other names `listed` has taken; else OTHER_COMMANDS. The same exchanges in the same order
 * give the same rows, so that two tallies of them (the summary's counts, the report's histograms) agree.
 */
export function commandRow(listed: Set<string>, command: string): string {
  if (isKnownCommandName(command) || listed.has(command)) return command;
  if (listed.size >= MAX_OTHER_COMMAND_NAMES) return OTHER_COMMANDS;
  listed.add(command);
  return command;
}

/** The warning of the first exchange counted in OTHER_COMMANDS. */
export function otherCommandsWarning(command: string): string {
  return `more than ${MAX_OTHER_COMMAND_NAMES} different names of commands that are not IMAP's (the cap on those the per-command figures list apart): ${JSON.stringify(command)} and every later new name are counted together as "${OTHER_COMMANDS}"`;
}
