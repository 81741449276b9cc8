import { BlockCoverage } from './coverage.js';
import type { Layer } from './layer.js';
import { Mutator } from './mutate.js';
import { Rng } from './rng.js';

export interface LoopOptions {
  /** Stop after this many inputs (seeds included)… */
  inputs?: number;
  /** …or after this many seconds, whichever comes first. */
  seconds?: number;
  seed?: number;
  /** An input taking longer than this is a failure (a hang the watchdog would catch is reported the same way). */
  timeoutMs?: number;
  /** Heap growth allowed over the start, in MiB, before the run counts as a leak. */
  memoryMb?: number;
  /** Guide by V8 block coverage (default on). */
  coverage?: boolean;
  /** Run at least this many inputs (seeds included) even past `seconds`: a slow machine still mutates. */
  minInputs?: number;
  /** Start from this corpus instead of the layer's seeds (a guided phase's result). */
  corpus?: Buffer[];
  /** Return the final corpus in the result. */
  keepCorpus?: boolean;
  /** Called before every execution with the input (the watchdog keeps a copy for hangs). */
  beforeRun?(input: Buffer): void;
  /** Called now and then with progress. */
  progress?(r: LoopResult): void;
}

export interface Failure {
  kind: 'crash' | 'invariant' | 'slow' | 'memory';
  message: string;
  input: Buffer;
}

export interface LoopResult {
  layer: string;
  inputs: number;
  seconds: number;
  perSecond: number;
  corpus: number;
  blocksCovered: number;
  blocksKnown: number;
  slowestMs: number;
  failure: Failure | null;
  corpusInputs?: Buffer[];
}

/** Our own compiled code, not node_modules nor the harness. */
const UNDER_TEST = /\/dist\/src\//;
const BATCH = 32;
const MAX_CORPUS = 4096;

/**
 * The coverage-guided loop: pick a corpus input (or a freshly generated one), mutate it, run it and check
 * time and memory. Every BATCH inputs V8's block counters are read; when the batch ran a block never
 * run before, its inputs are replayed one by one to find which did, and that one joins the corpus.
 * Reading coverage per batch instead of per input keeps executions fast.
 */
export async function fuzzLoop(layer: Layer, options: LoopOptions = {}): Promise<LoopResult> {
  const rng = new Rng(options.seed ?? 1);
  const timeoutMs = options.timeoutMs ?? 2000;
  const limitInputs = options.inputs ?? Infinity;
  const limitMs = (options.seconds ?? Infinity) * 1000;
  const mutator = new Mutator(rng, layer.dictionary ?? [], layer.maxLength ?? 64 * 1024);
  let coverage = options.coverage === false ? null : new BlockCoverage((url) => UNDER_TEST.test(url));
  const corpus: Buffer[] = options.corpus ?? layer.seeds().map((s) => s.subarray(0, layer.maxLength ?? 64 * 1024));
  if (layer.generate && !options.corpus) for (let i = 0; i < 16; i++) corpus.push(layer.generate(rng));
  const heapStart = process.memoryUsage().heapUsed;
  const started = performance.now();
  const result: LoopResult = { layer: layer.name, inputs: 0, seconds: 0, perSecond: 0, corpus: corpus.length, blocksCovered: 0, blocksKnown: 0, slowestMs: 0, failure: null };

  const execute = async (input: Buffer): Promise<Failure | null> => {
    options.beforeRun?.(input);
    const { failure, ms } = await runOne(layer, input, timeoutMs);
    if (ms > result.slowestMs) result.slowestMs = ms;
    return failure;
  };

  const endCoverage = () => {
    if (!coverage) return;
    coverage.take();
    result.blocksCovered = coverage.blocksCovered;
    result.blocksKnown = coverage.blocksKnown;
    coverage.stop();
    coverage = null;
  };

  const finish = (failure: Failure | null): LoopResult => {
    result.failure = failure;
    result.seconds = (performance.now() - started) / 1000;
    result.perSecond = result.inputs / Math.max(result.seconds, 1e-9);
    result.corpus = corpus.length;
    endCoverage();
    if (options.keepCorpus) result.corpusInputs = corpus;
    return result;
  };

  // The seeds first: they must all pass, and they set the coverage baseline.
  for (const seed of [...corpus]) {
    result.inputs++;
    const f = await execute(seed);
    if (f) return finish(f);
  }
  coverage?.take();

  let batch: Buffer[] = [];
  const other = () => rng.pick(corpus);
  while ((result.inputs < limitInputs && performance.now() - started < limitMs) || result.inputs < (options.minInputs ?? 0)) {
    const base = layer.generate && rng.chance(0.2) ? layer.generate(rng) : rng.pick(corpus);
    const input = rng.chance(0.95) ? mutator.mutate(base, other) : base;
    result.inputs++;
    const f = await execute(input);
    if (f) return finish(f);
    batch.push(input);
    if (batch.length >= BATCH) {
      if (coverage && coverage.take() > 0) {
        for (const b of batch) {
          const g = await execute(b);
          if (g) return finish(g);
          if (coverage.take() > 0 && corpus.length < MAX_CORPUS) corpus.push(b);
        }
      }
      batch = [];
    }
    if (result.inputs % 2048 === 0) {
      // A turn of the event loop, as a capture's reading takes between its chunks: the targets of the WeakRefs made
      // since the last one (the TCP layer holds a lingering connection's record weakly) are kept alive until it ends,
      // and without one a million inputs kept every record they made (the heap grew by 516 MiB).
      await new Promise((resolve) => setImmediate(resolve));
      const grown = (process.memoryUsage().heapUsed - heapStart) / 2 ** 20;
      if (grown > (options.memoryMb ?? 512)) return finish({ kind: 'memory', message: `heap grew by ${grown.toFixed(0)} MiB`, input });
      if (options.progress) {
        result.seconds = (performance.now() - started) / 1000;
        result.perSecond = result.inputs / result.seconds;
        result.corpus = corpus.length;
        if (coverage) {
          result.blocksCovered = coverage.blocksCovered;
          result.blocksKnown = coverage.blocksKnown;
        }
        options.progress(result);
      }
    }
  }
  return finish(null);
}

/** Run inputs once each (regression fixtures, replay of a saved failure). */
export async function replay(layer: Layer, inputs: readonly Buffer[], timeoutMs = 2000): Promise<Failure | null> {
  for (const input of inputs) {
    const { failure } = await runOne(layer, input, timeoutMs);
    if (failure) return failure;
  }
  return null;
}

/** One execution: what escaped (an InvariantError is a broken invariant, anything else a crash) and how long it took. */
export async function runOne(layer: Layer, input: Buffer, timeoutMs: number): Promise<{ failure: Failure | null; ms: number }> {
  const t0 = performance.now();
  try {
    const pending = layer.run(input);
    if (pending) await pending;
  } catch (err) {
    const e = err as Error;
    const kind = e?.constructor?.name === 'InvariantError' ? 'invariant' : 'crash';
    return { failure: { kind, message: kind === 'crash' ? (e?.stack ?? String(err)) : e.message, input }, ms: performance.now() - t0 };
  }
  const ms = performance.now() - t0;
  return { failure: ms > timeoutMs ? { kind: 'slow', message: `one input took ${ms.toFixed(0)} ms (bound ${timeoutMs} ms)`, input } : null, ms };
}
