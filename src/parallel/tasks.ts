/**
 * The per-capture tasks the pool can run, by name: each takes plain data and returns plain data (both
 * cross between threads). A command that takes several captures adds its per-capture function here.
 */
import { CaptureError } from '../capture/reader.js';
import { UsageError } from '../cli/errors.js';
import { captureRows } from '../fleet/rows.js';

const TASKS = {
  exportRows: (input: Parameters<typeof captureRows>) => captureRows(...input),
};

export type TaskName = keyof typeof TASKS;
export type TaskInput<N extends TaskName> = Parameters<typeof TASKS[N]>[0];
export type TaskOutput<N extends TaskName> = Awaited<ReturnType<typeof TASKS[N]>>;

export function runTask<N extends TaskName>(task: N, input: TaskInput<N>): Promise<TaskOutput<N>> {
  return (TASKS[task] as (i: TaskInput<N>) => Promise<TaskOutput<N>>)(input);
}

/** An error as it crosses threads: the classes the CLI treats specially keep their class. */
export interface SerializedError {
  kind: 'capture' | 'usage' | 'other';
  message: string;
  stack?: string;
}

export type WorkerReply = { ok: true; value: unknown } | { ok: false; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  const e = err as Error;
  const kind = err instanceof CaptureError ? 'capture' : err instanceof UsageError ? 'usage' : 'other';
  return { kind, message: e?.message ?? String(err), stack: e?.stack };
}

export function rebuildError(s: SerializedError): Error {
  const err = s.kind === 'capture' ? new CaptureError(s.message) : s.kind === 'usage' ? new UsageError(s.message) : new Error(s.message);
  if (s.stack) err.stack = s.stack;
  return err;
}
