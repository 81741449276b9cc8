/**
 * Module hooks (node:module register) that append the URL of every file module and Node module the process imports,
 * in its main thread and its worker threads, to the file named by IMAPSCOPE_MODULE_LOG. test/lazy-load.test.ts
 * runs the CLI with them to see which parts of imapscope a command pulls in.
 */
import { appendFileSync } from 'node:fs';

type NextLoad = (url: string, context: object) => Promise<unknown>;

export async function load(url: string, context: object, nextLoad: NextLoad): Promise<unknown> {
  const log = process.env.IMAPSCOPE_MODULE_LOG;
  if (log && (url.startsWith('file:') || url.startsWith('node:'))) appendFileSync(log, `${url}\n`);
  return nextLoad(url, context);
}
