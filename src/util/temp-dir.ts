import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private directory (mode 0700), by default under the system's temporary directory, for what a command spills. */
export interface TempDir {
  readonly path: string;
  /** Remove it and everything in it (idempotent). */
  remove(): void;
}

/** Signals that end the process by default: the directory goes first, then the signal does its usual work. */
const ENDING_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];

/**
 * Made now; removed by remove(), or when the process exits before (a second Ctrl-C, a fatal error, SIGTERM):
 * worker threads that wrote into it may be stopped without running their own clean-up, this thread still runs it.
 */
export function makeTempDir(prefix: string, parent: string = tmpdir()): TempDir {
  const path = mkdtempSync(join(parent, prefix));
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    process.kill(process.pid, signal); // no listener left: the default action ends the process
  };
  const remove = () => {
    process.removeListener('exit', remove);
    for (const s of ENDING_SIGNALS) process.removeListener(s, onSignal);
    rmSync(path, { recursive: true, force: true });
  };
  process.on('exit', remove);
  for (const s of ENDING_SIGNALS) process.on(s, onSignal);
  return { path, remove };
}
