import { analyzeWithFetches } from '../analysis/full.js';
import { fetchedBy, fetchExchangeKey as exchangeKey, type FetchedMessage, type FetchStep, type SectionFetch } from '../analysis/fetches.js';
import type { MessageView } from '../analysis/message-view.js';
import type { ReadControl } from '../capture/reader.js';
import type { Warning } from '../capture/types.js';
import { fetchesTextPieces, messageElements, messageJson, sectionLine } from '../report/fetches.js';
import { warningLines } from '../report/format.js';
import { closedOnFailure } from '../util/closed-on-failure.js';
import { escapeText } from '../util/escape.js';
import { pipelineOptions, type CaptureSettings } from '../settings.js';
import { compileFilterOption } from './display-options.js';
import { ConnectionChoice } from './options.js';
import { readSteps, StepFile, type SpilledSteps } from './step-file.js';
import { Selection } from './selection.js';

/** One capture's `fetches` job, as plain data (it may cross to a worker thread, which compiles -Y again). */
export interface FetchesOfCapture {
  path: string;
  settings: CaptureSettings;
  /** `--conn` and `-Y` as given. */
  conn: string | undefined;
  filter: string | undefined;
  /** Emit each section as an NDJSON line while the capture streams. */
  ndjson: boolean;
  /**
   * Emit the messages as elements of the JSON document's `messages` array (channels MESSAGES_CHANNEL, MORE_CHANNEL); else (and
   * not `ndjson`) as text on 'stdout', with the warnings' lines on 'stderr'.
   */
  json: boolean;
  /** Several captures: NDJSON lines carry `capture`. */
  multi: boolean;
  /**
   * Unless `ndjson`: hold at most this many messages and sections in memory, spilling sorted runs to a private
   * directory made in `dir` (FetchTracker's `spill`). Absent: everything is held.
   */
  spill?: { budget: number; dir: string };
}

/** The channel on which `json` jobs emit pieces of the `messages` array (messageElements: complete elements), */
export const MESSAGES_CHANNEL = 'messages';
/** and the one for more of the element sent last (one whose sections are read from disk as it is written). */
export const MORE_CHANNEL = 'messages+';

/** What is left once the messages went out as they were written. */
export interface FetchesCaptureResult {
  path: string;
  /** The FETCH commands (empty with `ndjson`, and when they were spilled). */
  steps: FetchStep[];
  /** With `spill`: the FETCH commands, written to the spill directory as each one completed (readSteps: in request order). */
  spilledSteps: SpilledSteps | null;
  warnings: Warning[];
  notice: string | null;
}

/** The capture's FETCH commands in request order, held or read back from where they were spilled. */
export function* resultSteps(r: FetchesCaptureResult): Generator<FetchStep> {
  if (!r.spilledSteps) return yield* r.steps;
  yield* readSteps(r.spilledSteps);
}

/** Fetched messages and steps of one capture, those of the exchanges -Y selects; NDJSON lines go to 'stdout' as they come. */
export async function fetchesOfCapture(o: FetchesOfCapture, emit: (channel: string, text: string) => void, control: ReadControl = {}): Promise<FetchesCaptureResult> {
  const filter = compileFilterOption(o.filter);
  const conn = o.conn !== undefined ? new ConnectionChoice(o.conn) : null;
  const selection = new Selection(filter);
  const chosen = new Set<string>();
  // With a filter and --ndjson, a section waits until its exchange is complete and known to match.
  const held = new Map<string, string[]>();
  const line = (m: FetchedMessage, f: SectionFetch) => sectionLine(o.multi ? o.path : null, m, f);
  const wanted = (x: SectionFetch | FetchStep) => !filter || chosen.has(exchangeKey(x));
  const stepFile = o.spill && !o.ndjson ? new StepFile(o.spill.dir) : null;
  const analysis = await closedOnFailure(() => stepFile?.abandon(), analyzeWithFetches(o.path, {
    ...pipelineOptions(o.settings),
    ...control,
    connections: conn?.accepts,
    keepConnections: false, // only the messages and steps are listed: memory stays off the number of connections
    statistics: false,
    onFirstFrame: (t) => { selection.t0 = t; },
    onExchange: filter ? (ex, info) => {
      const key = exchangeKey(ex);
      if (selection.exchange(ex, info)) chosen.add(key);
      const lines = held.get(key);
      held.delete(key);
      if (lines && chosen.has(key)) for (const l of lines) emit('stdout', l);
    } : undefined,
  }, {
    // NDJSON needs nothing kept: each section goes out as its response completes.
    retain: !o.ndjson,
    spill: o.ndjson ? undefined : o.spill,
    stepUids: false, // no view of `fetches` shows them
    // Each step is final once its command completes (and the filter has seen it).
    onStep: stepFile ? (step, created) => { if (wanted(step)) stepFile.add(step, created); } : undefined,
    onSection: o.ndjson
      ? (m, f) => {
        if (!filter) emit('stdout', line(m, f));
        else held.set(exchangeKey(f), [...(held.get(exchangeKey(f)) ?? []), line(m, f)]);
      }
      : undefined,
  }));
  conn?.requireFound(o.path);
  const spilledSteps = stepFile?.finish() ?? null;
  const result: FetchesCaptureResult = { path: o.path, steps: [], spilledSteps, warnings: analysis.warnings, notice: analysis.visibility.notice };
  if (o.ndjson) return result;
  const steps = spilledSteps ? [] : analysis.fetches.steps.filter(wanted);
  // Written one message at a time, merged from the spilled runs if there are some: the listing is never
  // held whole, nor copied across threads. A slow reader of stdout holds it back here as it holds reading back.
  const room = async () => {
    const wait = control.room?.();
    if (wait) await wait;
  };
  try {
    const sorted = analysis.fetches.sorted();
    const messages = filter ? fetchedBy(sorted, chosen) : sorted;
    if (o.json) {
      // One capture: the message's own object (a copy per message cost a spread of every member).
      const json = o.multi ? (m: MessageView) => ({ capture: o.path, ...messageJson(m) }) : messageJson;
      for (const piece of messageElements(messages, json)) {
        emit(piece.continues ? MORE_CHANNEL : MESSAGES_CHANNEL, piece.text);
        await room();
      }
      return { ...result, steps };
    }
    if (o.multi) emit('stdout', `${escapeText(o.path)}:\n`);
    if (result.notice) emit('stdout', `${escapeText(result.notice)}\n`);
    // In pieces of many messages' tables: a message's table is too small to pass on alone.
    for (const chunk of fetchesTextPieces(messages, resultSteps({ ...result, steps }))) {
      emit('stdout', chunk);
      await room();
    }
    for (const line of warningLines(analysis.warnings, o.path)) emit('stderr', `${line}\n`);
    return result;
  } finally {
    analysis.fetches.dispose();
  }
}

