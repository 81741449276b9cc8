import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private directory (mode 0700) under the system's temporary directory, for what a command spills. */
export interface TempDir {
  readonly path: string;
  /** Remove it and everything in it (idempotent). */
  remove(): void;
}

/**
 * Made now; removed by remove(), or when the process exits before (a second Ctrl-C, a fatal error): worker
 * threads that wrote into it may be stopped without running their own clean-up, this thread still runs it.
 */
export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => {
    process.removeListener('exit', remove);
    rmSync(path, { recursive: true, force: true });
  };
  process.on('exit', remove);
  return { path, remove };
}
