/**
 * The per-capture tasks the pool can run, by name: each takes plain data and returns plain data (both
 * cross between threads), and may emit output while it runs. A command that takes several captures adds
 * its per-capture function here.
 */
import { analyzeCapture, type CaptureAnalysis } from '../analysis/analyzer.js';
import { analyzeWithFetches } from '../analysis/full.js';
import { CommandStats } from '../analysis/stats.js';
import { collectStreams } from '../analysis/streams.js';
import { TurnStats } from '../analysis/turns.js';
import { CaptureError } from '../capture/reader.js';
import { RulesError } from '../check/errors.js';
import { UsageError } from '../cli/errors.js';
import { captureRows } from '../fleet/rows.js';
import { commandsOfCapture } from '../report/commands-capture.js';
import { sectionLine } from '../report/fetches.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';

/** Output a task writes while it runs, on a channel the command names (stdout, stderr, …). */
export type Emit = (channel: string, text: string) => void;

const TASKS = {
  exportRows: ([file, settings]: Parameters<typeof captureRows>) => captureRows(file, settings),
  /** The analysis model (summary, check). */
  analysis: ([path, settings, keepExchanges]: [string, CaptureSettings, boolean]) =>
    analyzeCapture(path, { ...pipelineOptions(settings), keepExchanges }),
  /** The analysis with its fetch steps (compare). */
  behaviour: async ([path, settings]: [string, CaptureSettings]) => {
    const { fetches, ...analysis } = await analyzeWithFetches(path, { ...pipelineOptions(settings), keepExchanges: true });
    return { analysis: analysis as CaptureAnalysis, steps: fetches.steps };
  },
  streams: ([path, settings]: [string, CaptureSettings]) => collectStreams(path, pipelineOptions(settings)),
  /** Fetched messages and steps; with `ndjson`, each section is emitted as a line while the capture streams. */
  fetches: async ([path, settings, ndjson, label]: [string, CaptureSettings, boolean, string | null], emit: Emit) => {
    const a = await analyzeWithFetches(path, pipelineOptions(settings), {
      onSection: ndjson ? (m, f) => emit('stdout', sectionLine(label, m, f)) : undefined,
    });
    return { path, messages: a.fetches.list(), steps: a.fetches.steps, warnings: a.warnings, notice: a.visibility.notice };
  },
  commands: (args: Parameters<typeof commandsOfCapture>[0], emit: Emit) => commandsOfCapture(args, emit),
};

export type TaskName = keyof typeof TASKS;
export type TaskInput<N extends TaskName> = Parameters<typeof TASKS[N]>[0];
export type TaskOutput<N extends TaskName> = Awaited<ReturnType<typeof TASKS[N]>>;

export function runTask<N extends TaskName>(task: N, input: TaskInput<N>, emit: Emit): Promise<TaskOutput<N>> {
  return (TASKS[task] as (i: TaskInput<N>, e: Emit) => Promise<TaskOutput<N>>)(input, emit);
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
}

export type WorkerMessage =
  | { kind: 'emit'; channel: string; text: string }
  | { kind: 'done'; ok: true; value: unknown }
  | { kind: 'done'; ok: false; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  const e = err as Error;
  const kind = err instanceof CaptureError ? 'capture' : err instanceof UsageError ? 'usage' : err instanceof RulesError ? 'rules' : 'other';
  return { kind, message: e?.message ?? String(err), stack: e?.stack };
}

export function rebuildError(s: SerializedError): Error {
  const err = s.kind === 'capture' ? new CaptureError(s.message) : s.kind === 'usage' ? new UsageError(s.message)
    : s.kind === 'rules' ? new RulesError(s.message) : new Error(s.message);
  if (s.stack) err.stack = s.stack;
  return err;
}
