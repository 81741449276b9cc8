/**
 * What the bin's bundle exports (scripts/bundle.mjs): the command line for the main thread, and the pool's worker for
 * the threads `--jobs` starts, each called by its launcher (dist/bundle/main.js, dist/bundle/worker.js). The worker's
 * code is loaded when a worker asks for it, not at every start.
 */
export { startCli } from './start.js';

export function startWorker(): void {
  void import('../parallel/worker-thread.js').then((worker) => worker.runWorker());
}
