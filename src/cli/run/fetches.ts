import { expandCaptures } from '../../fleet/walk.js';
import { inOrder } from '../../parallel/pool.js';
import { FetchesJsonWriter, stepJson } from '../../report/fetches.js';
import { MESSAGES_CHANNEL, MORE_CHANNEL, resultSteps, type FetchesCaptureResult } from '../fetches-capture.js';
import { jsonWarnings } from '../../report/format.js';
import { ConnectionChoice, captureSettings, jobsOf, plainSettings } from '../options.js';
import { captureSizes, jobsFor } from '../../parallel/jobs.js';
import { output } from '../output.js';
import { compileFilterOption } from '../display-options.js';
import { sortingDirectory, spillBudget } from '../spill.js';
import { LazyArray } from '../../util/json.js';

interface FetchesOptions { json?: boolean; ndjson?: boolean; conn?: string; filter?: string; port: string; keylog?: string[]; jobs?: string }

export async function runFetches(args: string[], opts: FetchesOptions): Promise<void> {
  // Checked here before any capture is read (a worker compiles them again).
  if (opts.conn !== undefined) new ConnectionChoice(opts.conn);
  compileFilterOption(opts.filter);
  const requested = jobsOf(opts);
  const captures = await expandCaptures(args);
  const sizes = captureSizes(captures);
  const jobs = jobsFor(requested, captures, sizes);
  const settings = captureSettings(opts);
  const asJson = Boolean(opts.json) && !opts.ndjson;
  const budget = spillBudget();
  // Runs spilled by the listings (in this thread or a worker) go under one directory this thread removes.
  const spillDir = opts.ndjson ? null : sortingDirectory();
  const inputs = captures.map((path) => ({
    path, settings: plainSettings(settings), conn: opts.conn, filter: opts.filter, ndjson: Boolean(opts.ndjson),
    json: asJson, multi: captures.length > 1, spill: spillDir ? { budget, dir: spillDir.path } : undefined,
  }));
  const results: FetchesCaptureResult[] = [];
  // With --json the messages arrive in pieces while the captures finish (each capture's after the one before).
  const json = new FetchesJsonWriter((text) => output.write(text));
  const sink = (channel: string, text: string) => {
    if (channel === MESSAGES_CHANNEL || channel === MORE_CHANNEL) json.messages({ text, continues: channel === MORE_CHANNEL });
    else if (channel === 'stderr') output.note(text.replace(/\n$/, ''));
    else output.write(text);
  };
  try {
    for await (const r of inOrder('fetches', inputs, jobs, sink, settings, { sizes })) results.push(r);
    if (!opts.json || opts.ndjson) return;
    const multi = results.length > 1;
    // One FETCH command's object at a time (read back from the spill directory): a folder sync of many sessions has
    // hundreds of thousands.
    const strategy = new LazyArray(function* () {
      for (const r of results) for (const s of resultSteps(r)) yield multi ? { capture: r.path, ...stepJson(s) } : stepJson(s);
    });
    await output.pieces(json.tail({
      strategy,
      warnings: results.flatMap((r) => jsonWarnings(r.warnings).map((w) => (multi ? { capture: r.path, ...w } : w))),
      ...output.partialField(),
    }));
  } finally {
    spillDir?.remove();
  }
}
