/** Worker thread entry: runs the tasks the pool sends, one at a time, and answers with plain data. */
import { parentPort, workerData } from 'node:worker_threads';
import chalk from 'chalk';
import { runTask, serializeError, type TaskName, type WorkerReply } from './tasks.js';

chalk.level = (workerData as { chalkLevel: typeof chalk.level }).chalkLevel;

parentPort!.on('message', async (msg: { task: TaskName; input: never }) => {
  let reply: WorkerReply;
  try {
    reply = { ok: true, value: await runTask(msg.task, msg.input) };
  } catch (err) {
    reply = { ok: false, error: serializeError(err) };
  }
  parentPort!.postMessage(reply);
});
