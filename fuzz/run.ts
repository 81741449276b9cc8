/**
 * npm run fuzz -- --layer NAME (--inputs N | --seconds S) [--seed N] [--timeout-ms N] [--memory-mb N] [--no-coverage]
 * npm run fuzz -- --layer NAME --replay FILE…      run saved inputs once each
 * npm run fuzz -- --layer NAME --minimize FILE     shrink a failing input while it still fails the same way
 * npm run fuzz -- --list
 *
 * The campaign runs in a worker thread with a heap limit; this thread is the watchdog: when the worker's
 * execution counter stops moving for the time bound, the input it was running is saved as a hang.
 * Failures are saved under fuzz-out/<layer>/ (kind-hash.bin and .txt); exit code 1 when one was found.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { LAYERS, layerNamed } from './layers/index.js';
import type { Layer } from './layer.js';
import { replay, runOne, type Failure, type LoopResult } from './loop.js';

function usage(message: string): never {
  process.stderr.write(`fuzz: ${message}\nlayers: ${LAYERS.map((l) => l.name).join(', ')}\n`);
  process.exit(2);
}

/** The options, or one usage line for an unknown or malformed one (a stack trace is no answer to a typo). */
function options() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        layer: { type: 'string' }, inputs: { type: 'string' }, seconds: { type: 'string' }, seed: { type: 'string' },
        'timeout-ms': { type: 'string' }, 'memory-mb': { type: 'string' }, 'no-coverage': { type: 'boolean' },
        replay: { type: 'boolean' }, minimize: { type: 'boolean' }, list: { type: 'boolean' }, out: { type: 'string' },
      },
    });
  } catch (err) {
    return usage(`${(err as Error).message.split('.')[0]} (usage: the comment at the top of fuzz/run.ts)`);
  }
}

const { values, positionals } = options();

const number = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a positive number`);
  return n;
};

function save(layer: Layer, f: Failure): string {
  const dir = join(values.out ?? 'fuzz-out', layer.name);
  mkdirSync(dir, { recursive: true });
  const name = `${f.kind}-${createHash('sha1').update(f.input).digest('hex').slice(0, 12)}`;
  writeFileSync(join(dir, `${name}.bin`), f.input);
  writeFileSync(join(dir, `${name}.txt`), `${f.kind}: ${f.message}\n`);
  return join(dir, `${name}.bin`);
}

/** A phase's progress. The unguided phase measures no coverage (its "0 of 0" read as if nothing were covered). */
const line = (r: LoopResult) => `${r.layer}: ${r.inputs} inputs in ${r.seconds.toFixed(1)} s (${Math.round(r.perSecond)}/s), corpus ${r.corpus}, ${r.blocksKnown > 0 ? `blocks covered ${r.blocksCovered} of ${r.blocksKnown} seen` : 'coverage not measured'}, slowest ${r.slowestMs.toFixed(1)} ms`;

interface Phase { coverage: boolean; inputs?: number; seconds?: number; corpus?: Buffer[] }

/** One worker running the loop; null when it failed (already saved and reported). */
async function phase(layer: Layer, p: Phase, timeoutMs: number, memoryMb: number): Promise<LoopResult | null> {
  const shared = new SharedArrayBuffer(8 + (layer.maxLength ?? 64 * 1024));
  const beat = new Int32Array(shared, 0, 2);
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: { layer: layer.name, shared, timeoutMs, memoryMb, seed: number('seed', values.seed) ?? 1, keepCorpus: true, ...p },
    resourceLimits: { maxOldGenerationSizeMb: memoryMb * 2 },
  });
  const lastInput = () => Buffer.from(new Uint8Array(shared, 8, Atomics.load(beat, 1)));
  let lastProgress = Date.now();
  return await new Promise<LoopResult | null>((done) => {
    let last = -1;
    let still = 0;
    const watchdog = setInterval(() => {
      const now = Atomics.load(beat, 0);
      // Until the first input runs the worker is loading seeds: that is not a hang.
      still = now === last && now > 0 ? still + 250 : 0;
      last = now;
      if (still < Math.max(timeoutMs * 2, 5000)) return;
      clearInterval(watchdog);
      const path = save(layer, { kind: 'slow', message: `no progress for ${still} ms: a hang`, input: lastInput() });
      process.stdout.write(`${layer.name}: HANG, input saved to ${path}\n`);
      void worker.terminate().then(() => done(null));
    }, 250);
    worker.on('message', (m: { progress?: LoopResult; result?: LoopResult }) => {
      if (m.progress && Date.now() - lastProgress > 30_000) {
        lastProgress = Date.now();
        process.stderr.write(`  ${line(m.progress)}\n`);
      }
      if (!m.result) return;
      clearInterval(watchdog);
      const r = m.result;
      if (r.failure) {
        const f = { ...r.failure, input: Buffer.from(r.failure.input) };
        process.stdout.write(`${line(r)}\n${layer.name}: ${f.kind.toUpperCase()}: ${f.message.split('\n').slice(0, 6).join('\n')}\n  input saved to ${save(layer, f)}\n`);
        done(null);
        return;
      }
      done(r);
    });
    worker.on('error', (err) => {
      clearInterval(watchdog);
      const kind = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash';
      const path = save(layer, { kind, message: err.stack ?? String(err), input: lastInput() });
      process.stdout.write(`${layer.name}: ${kind.toUpperCase()} (worker died: ${err.message}); input saved to ${path}\n`);
      done(null);
    });
  });
}

/**
 * A campaign in two phases. V8's block counters slow execution 10 to 30 times and stay in code compiled
 * while they were on, so the coverage-guided phase (a quarter of the budget) runs in one worker and
 * grows the corpus; a fresh worker then mutates that corpus at full speed for the rest.
 */
async function campaign(layer: Layer): Promise<number> {
  const timeoutMs = number('timeout-ms', values['timeout-ms']) ?? 2000;
  const memoryMb = number('memory-mb', values['memory-mb']) ?? 512;
  const inputs = number('inputs', values.inputs);
  const seconds = number('seconds', values.seconds);
  const share = values['no-coverage'] ? 0 : 0.25;
  let guided: LoopResult | null = null;
  if (share > 0) {
    guided = await phase(layer, { coverage: true, inputs: inputs && Math.ceil(inputs * share), seconds: seconds && seconds * share }, timeoutMs, memoryMb);
    if (!guided) return 1;
    process.stdout.write(`${line(guided)} [guided]\n`);
  }
  const rest = inputs !== undefined ? inputs - (guided?.inputs ?? 0) : undefined;
  const fast = await phase(layer, { coverage: false, inputs: rest, seconds: seconds && seconds * (1 - share), corpus: guided?.corpusInputs?.map((b) => Buffer.from(b)) }, timeoutMs, memoryMb);
  if (!fast) return 1;
  process.stdout.write(`${line(fast)} [unguided]\n`);
  const total = (guided?.inputs ?? 0) + fast.inputs;
  const time = (guided?.seconds ?? 0) + fast.seconds;
  process.stdout.write(`${layer.name}: TOTAL ${total} inputs in ${time.toFixed(1)} s (${Math.round(total / time)}/s overall, ${Math.round(fast.perSecond)}/s unguided), no failure; blocks covered ${guided?.blocksCovered ?? '-'} of ${guided?.blocksKnown ?? '-'} seen\n`);
  return 0;
}

/** Delta debugging: drop ever smaller pieces while the input still fails with the same kind and first message line. */
async function minimize(layer: Layer, input: Buffer): Promise<Buffer> {
  const first = await runOne(layer, input, 2000);
  if (!first.failure) usage('the input does not fail');
  const same = (f: Failure | null) => f !== null && f.kind === first.failure!.kind && f.message.split('\n')[0] === first.failure!.message.split('\n')[0];
  let best = input;
  for (let size = Math.max(1, best.length >> 1); size >= 1; size >>= 1) {
    for (let at = 0; at < best.length;) {
      const candidate = Buffer.concat([best.subarray(0, at), best.subarray(at + size)]);
      if (same((await runOne(layer, candidate, 2000)).failure)) best = candidate;
      else at += size;
    }
  }
  return best;
}

async function main(): Promise<number> {
  if (values.list) {
    for (const l of LAYERS) process.stdout.write(`${l.name.padEnd(10)} ${l.about}\n`);
    return 0;
  }
  if (!values.layer) usage('--layer NAME is required');
  const layer = layerNamed(values.layer) ?? usage(`no layer named ${values.layer}`);
  if (values.replay) {
    const failure = await replay(layer, positionals.map((p) => readFileSync(p)));
    process.stdout.write(failure ? `${failure.kind}: ${failure.message}\n` : `${positionals.length} input(s) pass\n`);
    return failure ? 1 : 0;
  }
  if (values.minimize) {
    const [file] = positionals;
    if (!file) usage('--minimize FILE');
    const small = await minimize(layer, readFileSync(file));
    writeFileSync(`${file}.min`, small);
    process.stdout.write(`${readFileSync(file).length} → ${small.length} bytes: ${file}.min\n`);
    return 0;
  }
  if (values.inputs === undefined && values.seconds === undefined) usage('--inputs N or --seconds S');
  return campaign(layer);
}

process.exitCode = await main();
