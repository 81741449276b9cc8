/**
 * Runs one task per capture, in this thread and worker threads when there are several captures and more than one
 * job, and hands the results back in argument order. Tasks may also emit output while they run (so a huge capture
 * streams): what the capture at the head of the order emits goes straight to `sink`, what later ones emit waits
 * until every earlier capture is done. `--jobs 1` runs the very same task functions in this thread alone; results
 * go through structuredClone either way, so both paths give identical data and every command's output is
 * byte-identical whatever the number of jobs.
 * This thread is one of the jobs: with N jobs it takes captures beside N - 1 workers (poolPlan). A worker is a heap
 * and a copy of the code of its own: this thread idling beside N workers cost 5-31 MiB of peak RSS in the cases
 * measured. It starts with the largest capture when `sizes` are given, the first otherwise, so that a big capture
 * beside small ones is read here once they are done, with no worker left.
 * `control` (stop signal, progress) serves the tasks run in this thread alone; with workers, this thread's tasks get
 * the stop signal and no progress, like the workers, which are stopped with the signal, and what they found by then
 * is dropped (the captures before them are reported, as partial).
 * Its `room()` holds every job back (WorkerGates for workers): the head's while the output has no room, a later
 * capture's once MAX_HELD_CHARS of its output wait in memory for its turn (HeldOutput: past its memory, a file takes
 * it).
 * A caller whose results are plain data that a copy leaves unchanged (test/jobs.test.ts holds its output
 * equal at --jobs 1 and 2) may take in-thread results as they are (`{ copyInThread: false }`): the copy
 * of a big result (summary's connection records) doubles it at the peak.
 * A worker with no capture left to take ends at once, its heap with it, while the others still work.
 */
import type { Worker } from 'node:worker_threads';
import { lazyRequire } from '../util/lazy-require.js';
import chalk from 'chalk';
import type { ReadControl } from '../capture/reader.js';
import { fittedWidth } from '../report/table-width.js';
import { WorkerGates } from './gates.js';
import { rebuildError, runTask, type Emit, type TaskInput, type TaskName, type TaskOutput, type WorkerMessage } from './tasks.js';
import { growthAskedBuffer, shareHeapRoom, watchingHeapGrowth } from '../util/heap-growth.js';
import { HeldOutput, HeldOutputFiles } from './held-output.js';

/** Node's worker_threads, loaded when a worker is started (one job starts none: it took 1.7 ms of every start). */
const workerThreads = lazyRequire<typeof import('node:worker_threads')>('node:worker_threads');

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

const noSink: Emit = () => {};

/** The slot of this thread's job, beside the workers' 0 … jobs - 2. */
const HERE = -1;

/**
 * Text a capture not yet at the head may have waiting in this thread's memory, when no file can take what is past
 * HELD_IN_MEMORY_CHARS, before its worker is paused until the capture's turn (its output cannot go out before the
 * captures ahead of it).
 */
const MAX_HELD_CHARS = 32 * 1024 * 1024;

/** Output a worker at the head sends between two questions for room (as much as the output gathers per write). */
const ROOM_CHARS = 64 * 1024;

export interface PoolOptions {
  /** Copy what a task run in this thread gives back (as a worker's result is copied). Default true. */
  copyInThread?: boolean;
  /** Each input's size (a capture file's bytes; 0 when unknown): this thread starts with the largest. */
  sizes?: readonly number[];
  /** Where a later capture's output may wait on disk (a private directory made in it): the system's temporary directory by default. */
  heldIn?: string;
}

/** How many workers there are, and the order captures are handed out in (this thread takes `order[0]`). */
export interface PoolPlan {
  workers: number;
  /** The order captures are handed out in: this thread takes the first, the workers the next ones, then whoever is free. */
  order: number[];
}

/** With `jobs` jobs for `count` captures: this thread and jobs - 1 workers, this thread starting with the largest. */
export function poolPlan(count: number, jobs: number, sizes?: readonly number[]): PoolPlan {
  const order = Array.from({ length: count }, (_, i) => i);
  if (jobs <= 1 || count <= 1) return { workers: 0, order };
  let largest = 0;
  if (sizes) for (let i = 1; i < count; i++) if ((sizes[i] ?? 0) > (sizes[largest] ?? 0)) largest = i;
  order.splice(largest, 1);
  order.unshift(largest);
  return { workers: Math.min(jobs, count) - 1, order };
}

export async function* inOrder<N extends TaskName>(task: N, inputs: readonly TaskInput<N>[], jobs: number, sink: Emit = noSink, control: ReadControl = {}, { copyInThread = true, sizes, heldIn }: PoolOptions = {}): AsyncGenerator<TaskOutput<N>> {
  const signal = control.signal;
  const plan = poolPlan(inputs.length, jobs, sizes);
  if (plan.workers === 0) {
    for (const input of inputs) {
      if (signal?.aborted) return;
      const result = await runTask(task, input, sink, { signal, onProgress: control.onProgress, room: control.room });
      yield copyInThread ? structuredClone(result) : result;
    }
    return;
  }
  const results = new Map<number, Settled>();
  const held = new Map<number, HeldOutput>();
  const heldFiles = new HeldOutputFiles(heldIn);
  let head = 0;
  let wake: (() => void) | null = null;
  const settle = (index: number, s: Settled) => {
    results.set(index, s);
    wake?.();
  };
  const gates = new WorkerGates(plan.workers);
  // What holds this thread's task back, until it settles: its next room() returns it (a worker's gate closes instead).
  let hereWaits: Promise<void> | null = null;
  const holdBack = (slot: number, until: Promise<void>) => {
    if (slot !== HERE) {
      gates.pause(slot, until);
      return;
    }
    hereWaits = until;
    const release = () => {
      if (hereWaits === until) hereWaits = null;
    };
    until.then(release, release);
  };
  // Captures whose output waits for the head, by index: what lets their job go on once it gets there.
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
      // A slow reader of the output holds the job back, as it holds back reading with one job. Asked
      // every ROOM_CHARS, not for every row: asking flushes the output, which gathers rows into big writes.
      sinceAsked += text.length;
      if (sinceAsked < ROOM_CHARS) return;
      sinceAsked = 0;
      const wait = control.room?.();
      if (wait) holdBack(slot, wait);
      return;
    }
    // Its output cannot go out before the captures ahead of it: it waits, past a budget in a file, so that its job goes
    // on; held in memory (no file can be made), past a budget its job waits for its turn.
    let output = held.get(index);
    if (!output) held.set(index, (output = new HeldOutput(heldFiles.fileFor)));
    output.add(channel, text);
    if (!output.spills && output.chars > MAX_HELD_CHARS) holdBack(slot, reaching(index));
  };
  let next = 0;
  // This thread's job: stopped with the caller's signal, or when the caller stops taking results.
  const stopHere = new AbortController();
  const hereSignal = signal ? AbortSignal.any([signal, stopHere.signal]) : stopHere.signal;
  const runHere = async () => {
    while (next < inputs.length && !hereSignal.aborted) {
      const index = plan.order[next++]!;
      try {
        const value = await runTask(task, inputs[index]!, (channel, text) => emit(HERE, index, channel, text), { signal: hereSignal, room: () => hereWaits });
        settle(index, { ok: true, value: copyInThread ? structuredClone(value) : value });
      } catch (error) {
        settle(index, { ok: false, error });
      }
    }
  };
  // Started first, so that it takes the first capture of the plan before any worker is made.
  const here = runHere();
  const workers: Worker[] = [];
  const dispatch = (w: Worker, busy: { index: number }) => {
    if (next >= inputs.length) {
      // Nothing left for it: its heap goes now, not when the last capture is done (a small capture beside a big one).
      busy.index = -1;
      void w.terminate();
      return;
    }
    busy.index = plan.order[next++]!;
    w.postMessage({ task, input: inputs[busy.index] });
  };
  // This thread and the workers analyse at once: each heap's watch has its share of the process's room.
  const threads = plan.workers + 1;
  shareHeapRoom(threads);
  for (let slot = 0; slot < plan.workers; slot++) {
    // Workers inherit chalk's decision (colour or not) and the tables' width, so their text equals this thread's.
    const w = new (workerThreads().Worker)(new URL('./worker.js', import.meta.url), { workerData: { chalkLevel: chalk.level, tableWidth: fittedWidth(), gates: gates.buffer, slot, leanHeap: watchingHeapGrowth(), threads, growthAsked: growthAskedBuffer() } });
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
      const waiting = held.get(head);
      held.delete(head);
      // All at once, as it was emitted: the capture's job may emit more now that it is at the head, after this.
      for (const [channel, text] of waiting?.replay() ?? []) sink(channel, text);
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
    // This thread's task stops at its next chunk (nothing may keep it waiting), and ends before the pool does: its
    // temporary files go with it.
    stopHere.abort();
    for (const list of atHead.values()) for (const go of list) go();
    hereWaits = null;
    await Promise.all([here, ...workers.map((w) => w.removeAllListeners().terminate())]);
    for (const output of held.values()) output.discard();
    heldFiles.remove();
    shareHeapRoom(1);
  }
}
