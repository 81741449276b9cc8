/**
 * The per-capture tasks the pool can run, by name: each takes plain data and returns plain data (both
 * cross between threads), and may emit output while it runs. A command that takes several captures adds
 * its per-capture function here.
 */
import type { CaptureAnalysis } from '../analysis/analyzer.js';
import { CommandStats } from '../analysis/stats.js';
import { TurnStats } from '../analysis/turns.js';
import { CaptureError, type ReadControl } from '../capture/reader.js';
import { RulesError } from '../check/errors.js';
import { UsageError } from '../cli/errors.js';
import type { CaptureFile, RowsScratch } from '../fleet/rows.js';
import type { GroupBy } from '../compare/behaviour.js';
import type { commandsOfCapture } from '../cli/commands-capture.js';
import type { fetchesOfCapture } from '../cli/fetches-capture.js';
import type { SelectedCapture } from '../cli/selected-capture.js';
import type { CheckInput } from '../cli/check-capture.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';

/** Output a task writes while it runs, on a channel the command names (stdout, stderr, …). */
export type Emit = (channel: string, text: string) => void;

// Each task imports its implementation when it first runs, so a command loads only its own kind (and
// `commands` never loads the export rows or the fetch analysis); a worker thread does the same.
const TASKS = {
  /** A capture's rows for export; the long tables' rows are emitted as NDJSON text, on a channel named by the table. */
  exportRows: async ([file, settings, scratch]: [CaptureFile, CaptureSettings, RowsScratch], emit: Emit, control: ReadControl) => (await import('../fleet/rows.js')).captureRows(file, settings, emit, scratch, control),
  /** What compare reads of a capture: per connection, its commands, fetch strategy, latencies (by group) and identity. */
  behaviour: async ([path, settings, by, spool]: [string, CaptureSettings, GroupBy, string | null], _emit: Emit, control: ReadControl) =>
    (await import('../compare/capture-behaviour.js')).captureBehaviour(path, { ...pipelineOptions(settings), ...control }, by, spool),
  /** The rules' outcomes on one capture (check), with -Y. */
  check: async (args: CheckInput, _emit: Emit, control: ReadControl) => (await import('../cli/check-capture.js')).checkOfCapture(args, control),
  /** The analysis model of summary, and the streams view, with -Y. */
  analysis: async (args: SelectedCapture, _emit: Emit, control: ReadControl) => (await import('../cli/selected-capture.js')).selectedAnalysis(args, control),
  streams: async (args: SelectedCapture, _emit: Emit, control: ReadControl) => (await import('../cli/selected-capture.js')).streamsOfCapture(args, control),
  /** Fetched messages and steps (of the exchanges -Y selects); with `ndjson`, each section is emitted as a line while the capture streams. */
  fetches: async (args: Parameters<typeof fetchesOfCapture>[0], emit: Emit, control: ReadControl) => (await import('../cli/fetches-capture.js')).fetchesOfCapture(args, emit, control),
  commands: async (args: Parameters<typeof commandsOfCapture>[0], emit: Emit, control: ReadControl) => (await import('../cli/commands-capture.js')).commandsOfCapture(args, emit, control),
};

export type TaskName = keyof typeof TASKS;
export type TaskInput<N extends TaskName> = Parameters<typeof TASKS[N]>[0];
export type TaskOutput<N extends TaskName> = Awaited<ReturnType<typeof TASKS[N]>>;

/** `control` (stop signal, progress) only in the main thread: it does not cross to a worker. */
export function runTask<N extends TaskName>(task: N, input: TaskInput<N>, emit: Emit, control: ReadControl = {}): Promise<TaskOutput<N>> {
  return (TASKS[task] as (i: TaskInput<N>, e: Emit, c: ReadControl) => Promise<TaskOutput<N>>)(input, emit, control);
}

/**
 * An analysis after crossing threads: its state is plain data (Maps, arrays) and survives the copy; only
 * the methods of its statistics classes are given back.
 */
export function restoreAnalysis<A extends CaptureAnalysis>(a: A): A {
  Object.setPrototypeOf(a.commandStats, CommandStats.prototype);
  Object.setPrototypeOf(a.turnStats, TurnStats.prototype);
  return a;
}

/** An error as it crosses threads: the classes the CLI treats specially keep their class. */
export interface SerializedError {
  kind: 'capture' | 'usage' | 'rules' | 'other';
  message: string;
  stack?: string;
  /** A system error's code (ENOSPC, …). */
  code?: string;
}

export type WorkerMessage =
  | { kind: 'emit'; channel: string; text: string }
  | { kind: 'done'; ok: true; value: unknown }
  | { kind: 'done'; ok: false; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  const e = err as Error;
  const kind = err instanceof CaptureError ? 'capture' : err instanceof UsageError ? 'usage' : err instanceof RulesError ? 'rules' : 'other';
  return { kind, message: e?.message ?? String(err), stack: e?.stack, code: (err as NodeJS.ErrnoException)?.code };
}

export function rebuildError(s: SerializedError): Error {
  const err = s.kind === 'capture' ? new CaptureError(s.message) : s.kind === 'usage' ? new UsageError(s.message)
    : s.kind === 'rules' ? new RulesError(s.message) : new Error(s.message);
  if (s.stack) err.stack = s.stack;
  // A system error's code (a full disk in a worker) decides how the CLI reports it.
  if (s.code !== undefined) (err as NodeJS.ErrnoException).code = s.code;
  return err;
}
