/** Worker thread entry of the pool (pool.ts starts ./worker.js): see worker-thread.ts. */
import { runWorker } from './worker-thread.js';

runWorker();
