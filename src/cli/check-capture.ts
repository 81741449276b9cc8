import type { ReadControl } from '../capture/reader.js';
import { checkCapture, type CheckedCapture } from '../check/check-capture.js';
import type { Rule } from '../check/types.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
import { compileFilterOption } from './display-options.js';
import { Selection } from './selection.js';

/** One capture of `check`, as plain data (it may cross to a worker thread, which compiles the filter again). */
export interface CheckInput {
  path: string;
  settings: CaptureSettings;
  filter: string | undefined;
  rules: Rule[];
  allowEncrypted: boolean;
}

/** The rules' outcomes on one capture; with -Y, over the exchanges it selects and the connections that have one. */
export async function checkOfCapture(o: CheckInput, control: ReadControl = {}): Promise<CheckedCapture> {
  const selection = new Selection(compileFilterOption(o.filter));
  const options = { ...pipelineOptions(o.settings), ...control, onFirstFrame: (t: Selection['t0']) => { selection.t0 = t; } };
  return checkCapture(o.path, o.rules, options, { allowEncrypted: o.allowEncrypted }, selection);
}
