import type { CaptureInput } from '../capture/reader.js';
import { analyzeCapture, type AnalyzeOptions, type CaptureAnalysis } from './analyzer.js';
import { FetchTracker, type FetchTrackerOptions } from './fetches.js';
import { WarningList } from './warning-list.js';

export interface FullAnalysis extends CaptureAnalysis {
  fetches: FetchTracker;
}

/** analyzeCapture with FETCH tracking wired in: messages, sections (hashed) and fetch steps too. */
export async function analyzeWithFetches(path: CaptureInput, options: AnalyzeOptions = {}, fetchOptions: FetchTrackerOptions = {}): Promise<FullAnalysis> {
  // What the tracker finds wrong in FETCH data joins the capture's warnings, in the order it was found. Not when it
  // streams (NDJSON, compare): to warn, it would read every BODYSTRUCTURE that it otherwise leaves unread.
  const warnings = options.warnings ?? new WarningList();
  const keeps = fetchOptions.retain ?? true;
  const tracker = new FetchTracker(keeps ? { warn: (frame, conn, message) => warnings.add({ frame, conn, message }), ...fetchOptions } : fetchOptions);
  const analysis = await analyzeCapture(path, {
    warnings,
    // Keep fetched headers and small parts whole for parsing (envelopes from BODY[] and HEADER sections).
    keepLiteral: 256 * 1024,
    ...options,
    onLiteralStart: (msg, lit, conn) => {
      const mine = tracker.literalStart(msg, lit);
      const theirs = options.onLiteralStart?.(msg, lit, conn) ?? null;
      if (!mine || !theirs) return mine ?? theirs;
      return { write: (c) => { mine.write?.(c); theirs.write?.(c); }, end: (ok) => { mine.end(ok); theirs.end(ok); } };
    },
    onUntagged: (r, msg, owner, info) => {
      tracker.untagged(r, msg, owner, info);
      options.onUntagged?.(r, msg, owner, info);
    },
    // The caller sees the exchange first (a filter decides whether its step is wanted), then its step is final.
    onExchange: (ex, info) => {
      options.onExchange?.(ex, info);
      tracker.exchangeDone(ex);
    },
  });
  tracker.endSteps();
  await tracker.settle();
  return { ...analysis, fetches: tracker };
}
