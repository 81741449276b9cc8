/**
 * Runs one task per capture, in worker threads when there are several captures and more than one job,
 * and hands the results back in argument order. Tasks may also emit output while they run (so a huge
 * capture streams): what the capture at the head of the order emits goes straight to `sink`, what later
 * ones emit waits until every earlier capture is done. `--jobs 1` runs the very same task functions in
 * this thread; results go through structuredClone either way, so both paths give identical data and every
 * command's output is byte-identical whatever the number of jobs.
 * `control` (stop signal, progress) serves the tasks run in this thread; workers are stopped with the
 * signal, and what they found by then is dropped (the captures before them are reported, as partial).
 * Its `room()` holds workers back too (WorkerGates): the head's worker while the output has no room, a later
 * capture's worker once MAX_HELD_CHARS of its output wait here for its turn.
 * A caller whose results are plain data that a copy leaves unchanged (test/jobs.test.ts holds its output
 * equal at --jobs 1 and 2) may take in-thread results as they are (`{ copyInThread: false }`): the copy
 * of a big result (summary's connection records) doubles it at the peak.
 * A worker with no capture left to take ends at once, its heap with it, while the others still work.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import chalk from 'chalk';
import type { ReadControl } from '../capture/reader.js';
import { fittedWidth } from '../report/table-width.js';
import { WorkerGates } from './gates.js';
import { rebuildError, runTask, type Emit, type TaskInput, type TaskName, type TaskOutput, type WorkerMessage } from './tasks.js';

/** Default for --jobs: one per core. */
export function defaultJobs(): number {
  return availableParallelism();
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

const noSink: Emit = () => {};

/**
 * Text a capture not yet at the head may have waiting in this thread before its worker is paused until the
 * capture's turn (its output cannot go out before the captures ahead of it).
 */
const MAX_HELD_CHARS = 32 * 1024 * 1024;

/** Output a worker at the head sends between two questions for room (as much as the output gathers per write). */
const ROOM_CHARS = 64 * 1024;

export async function* inOrder<N extends TaskName>(task: N, inputs: readonly TaskInput<N>[], jobs: number, sink: Emit = noSink, control: ReadControl = {}, { copyInThread = true } = {}): AsyncGenerator<TaskOutput<N>> {
  const signal = control.signal;
  if (jobs <= 1 || inputs.length <= 1) {
    for (const input of inputs) {
      if (signal?.aborted) return;
      const result = await runTask(task, input, sink, { signal, onProgress: control.onProgress, room: control.room });
      yield copyInThread ? structuredClone(result) : result;
    }
    return;
  }
  const results = new Map<number, Settled>();
  const held = new Map<number, [string, string][]>();
  let head = 0;
  let wake: (() => void) | null = null;
  const settle = (index: number, s: Settled) => {
    results.set(index, s);
    wake?.();
  };
  const workerCount = Math.min(jobs, inputs.length);
  const gates = new WorkerGates(workerCount);
  const heldChars = new Map<number, number>();
  // Captures whose output waits for the head, by index: what reopens their worker's gate once it gets there.
  const atHead = new Map<number, (() => void)[]>();
  const reaching = (index: number) => new Promise<void>((resolve) => {
    let list = atHead.get(index);
    if (!list) atHead.set(index, (list = []));
    list.push(resolve);
  });
  let sinceAsked = 0;
  const emit = (slot: number, index: number, channel: string, text: string) => {
    if (index === head) {
      sink(channel, text);
      // A slow reader of the output holds the worker back, as it holds back reading in this thread. Asked
      // every ROOM_CHARS, not for every row: asking flushes the output, which gathers rows into big writes.
      sinceAsked += text.length;
      if (sinceAsked < ROOM_CHARS) return;
      sinceAsked = 0;
      const wait = control.room?.();
      if (wait) gates.pause(slot, wait);
      return;
    }
    // Appended in place: a capture that is not at the head may emit many pieces while it waits.
    let list = held.get(index);
    if (!list) held.set(index, (list = []));
    list.push([channel, text]);
    const chars = (heldChars.get(index) ?? 0) + text.length;
    heldChars.set(index, chars);
    // Its output cannot go out before the captures ahead of it: past a budget, its worker waits for its turn.
    if (chars > MAX_HELD_CHARS) gates.pause(slot, reaching(index));
  };
  let next = 0;
  const workers: Worker[] = [];
  const dispatch = (w: Worker, busy: { index: number }) => {
    if (next >= inputs.length) {
      // Nothing left for it: its heap goes now, not when the last capture is done (a small capture beside a big one).
      busy.index = -1;
      void w.terminate();
      return;
    }
    busy.index = next++;
    w.postMessage({ task, input: inputs[busy.index] });
  };
  for (let slot = 0; slot < workerCount; slot++) {
    // Workers inherit chalk's decision (colour or not) and the tables' width, so their text equals this thread's.
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { chalkLevel: chalk.level, tableWidth: fittedWidth(), gates: gates.buffer, slot } });
    const busy = { index: -1 };
    w.on('message', (msg: WorkerMessage) => {
      if (msg.kind === 'emit') {
        emit(slot, busy.index, msg.channel, msg.text);
        return;
      }
      settle(busy.index, msg.ok ? { ok: true, value: msg.value } : { ok: false, error: rebuildError(msg.error) });
      dispatch(w, busy);
    });
    // A worker that dies (out of memory, a crash in native code) fails the capture it was working on.
    w.on('error', (err) => settle(busy.index, { ok: false, error: err }));
    w.on('exit', (code) => {
      if (busy.index >= 0 && !results.has(busy.index) && code !== 0) settle(busy.index, { ok: false, error: new Error(`worker stopped with code ${code}`) });
    });
    workers.push(w);
    dispatch(w, busy);
  }
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    for (; head < inputs.length; head++) {
      if (signal?.aborted) return;
      for (const [channel, text] of held.get(head) ?? []) sink(channel, text);
      held.delete(head);
      heldChars.delete(head);
      for (const reopen of atHead.get(head) ?? []) reopen();
      atHead.delete(head);
      while (!results.has(head)) {
        if (signal?.aborted) return;
        await new Promise<void>((resolve) => { wake = resolve; });
      }
      const r = results.get(head)!;
      results.delete(head);
      if (!r.ok) throw r.error;
      yield r.value as TaskOutput<N>;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    gates.openAll();
    await Promise.all(workers.map((w) => w.removeAllListeners().terminate()));
  }
}
