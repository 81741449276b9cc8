import { parentPort, workerData } from 'node:worker_threads';
import { layerNamed } from './layers/index.js';
import { fuzzLoop, type LoopOptions } from './loop.js';

/** The campaign runs here, in a worker, so the main thread can notice a hang (see run.ts). */
interface Job extends LoopOptions { layer: string; shared: SharedArrayBuffer }

const job = workerData as Job;
const beat = new Int32Array(job.shared, 0, 2);
const inputCopy = new Uint8Array(job.shared, 8);

const result = await fuzzLoop(layerNamed(job.layer)!, {
  ...job,
  // Buffers cross the thread boundary as plain Uint8Arrays.
  corpus: job.corpus?.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
  // Before every run: count, and keep a copy of the input so a hang can be saved by the main thread.
  beforeRun(input) {
    const n = Math.min(input.length, inputCopy.length);
    inputCopy.set(input.subarray(0, n));
    Atomics.store(beat, 1, n);
    Atomics.add(beat, 0, 1);
  },
  progress: (r) => parentPort!.postMessage({ progress: { ...r, failure: null } }),
});
parentPort!.postMessage({ result });
