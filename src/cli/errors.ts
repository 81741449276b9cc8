import { CaptureError } from '../capture/reader.js';
import { RulesError } from '../check/errors.js';

/** Documented exit codes. */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;

/** A user mistake in the arguments: one line, exit 2. */
export class UsageError extends Error {}

/** Turn any failure into one clear line on stderr and the documented exit code; never a stack trace. */
export function reportFatal(err: unknown): never {
  if (err instanceof UsageError || err instanceof CaptureError || err instanceof RulesError) {
    process.stderr.write(`imapscope: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EPIPE') process.exit(EXIT_OK); // output closed early (| head): not an error
  process.stderr.write(`imapscope: internal error: ${e?.message ?? String(err)} (please report this with the capture)\n`);
  if (process.env.IMAPSCOPE_DEBUG) process.stderr.write(`${e?.stack}\n`);
  process.exit(70);
}
