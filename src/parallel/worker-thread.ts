/** A worker thread of the pool: runs the tasks the pool sends, one at a time, and answers with plain data. */
import { parentPort, workerData } from 'node:worker_threads';
import chalk from 'chalk';
import { setTableWidth } from '../report/table-width.js';
import { gateRoom } from './gates.js';
import { runTask, serializeError, type TaskName, type WorkerMessage } from './tasks.js';
import { ownedBuffers } from './owned-buffers.js';
import { leanHeapWhenLarge, shareGrowthAsked, shareHeapRoom } from '../util/heap-growth.js';

/** Starts this worker (its entry, ./worker.js, or the bin's bundle on a worker thread). */
export function runWorker(): void {
  const data = workerData as { chalkLevel: typeof chalk.level; tableWidth: number | null; gates: SharedArrayBuffer; slot: number; leanHeap: boolean; threads: number; growthAsked: SharedArrayBuffer };
  chalk.level = data.chalkLevel;
  // The bin's threads each watch their own heap, against their share of the process's room (the flag they set is the
  // process's: the lowest growth any thread asked for is shared).
  if (data.leanHeap) {
    shareGrowthAsked(data.growthAsked);
    leanHeapWhenLarge();
    shareHeapRoom(data.threads);
  }
  setTableWidth(data.tableWidth);
  // The pool closes this worker's gate while its output cannot be taken: reading waits after each chunk.
  const room = gateRoom(data.gates, data.slot);

  const port = parentPort!;
  const send = (msg: WorkerMessage) => port.postMessage(msg);

  port.on('message', async (msg: { task: TaskName; input: never }) => {
    try {
      const value = await runTask(msg.task, msg.input, (channel, text) => send({ kind: 'emit', channel, text }), { room });
      // Its columns move to the pool's thread; this one is done with them.
      port.postMessage({ kind: 'done', ok: true, value } satisfies WorkerMessage, ownedBuffers(value));
    } catch (err) {
      send({ kind: 'done', ok: false, error: serializeError(err) });
    }
  });
}
