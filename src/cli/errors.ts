import { CaptureError } from '../capture/reader.js';
import { RulesError } from '../check/errors.js';
import { EXIT_INTERRUPTED, output } from './output.js';
import { escapeText } from '../util/escape.js';

/** Documented exit codes. */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;
/** A disk that is full (or a quota reached): sysexits' EX_IOERR. */
export const EXIT_CANNOT_WRITE = 74;

/** Write errors that say the disk has no room, not that imapscope is wrong. */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT']);

/** A user mistake in the arguments: one line (ending with where to find help), exit 2. */
export class UsageError extends Error {
  /** False when the line says all there is to say (e.g. which connection ids exist). */
  readonly hint: boolean;

  constructor(message: string, options: { hint?: boolean } = {}) {
    super(message);
    this.hint = options.hint ?? true;
  }
}

/** The line a usage error or an unreadable capture prints. Messages quote rules files, paths and capture bytes: escaped. */
export function usageLine(err: UsageError | CaptureError | RulesError): string {
  // Line by line: a display-filter error draws the expression and a caret under it on lines of their own.
  return `imapscope: ${err.message.split('\n').map((line) => escapeText(line)).join('\n')}`;
}

/** Turn any failure into one clear line on stderr and the documented exit code; never a stack trace. */
export function reportFatal(err: unknown): never {
  if (err instanceof UsageError || err instanceof CaptureError || err instanceof RulesError) {
    output.note(`${usageLine(err)}${err instanceof UsageError && err.hint ? `; ${output.helpHint()}` : ''}`);
    process.exit(EXIT_USAGE);
  }
  const e = err as NodeJS.ErrnoException;
  // Output closed early (| head) is not an error; after Ctrl-C the exit says so.
  if (e?.code === 'EPIPE') process.exit(output.interrupted ? EXIT_INTERRUPTED : EXIT_OK);
  if (e?.code !== undefined && NO_ROOM.has(e.code)) {
    output.note(`imapscope: no room left to write (${escapeText(e.message)}): free some where the output goes, or set TMPDIR to a directory with room (views write what they list there as they read)`);
    process.exit(EXIT_CANNOT_WRITE);
  }
  output.note(`imapscope: internal error: ${escapeText(e?.message ?? String(err))} (please report this with the capture)`);
  if (debugging()) output.note(`${e?.stack}`);
  process.exit(EXIT_INTERNAL);
}

function debugging(): boolean {
  const v = process.env.IMAPSCOPE_DEBUG;
  return v !== undefined && v !== '' && v !== '0';
}
