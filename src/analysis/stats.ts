import type { Exchange } from '../imap/model.js';
import { float64List, listValues, pushValue, uint32List, type Float64List, type Uint32List } from '../util/typed-list.js';
import { secondsBetween } from '../util/time.js';
import { commandRows } from './command-rows.js';

export interface CommandSummary {
  command: string;
  count: number;
  ok: number;
  no: number;
  bad: number;
  incomplete: number;
  medianMs: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

/**
 * One command's latencies, exactly: those of whole microseconds up to 2^32 (71 minutes; all but a few) as microseconds
 * in 4 bytes, any other (longer, or negative from a clock stepping back) as itself in 8.
 */
interface Latencies {
  micros: Uint32List;
  others: Float64List;
}

/**
 * Per-command counts and latency percentiles, built one exchange at a time. Latencies are kept (about 4 bytes each,
 * outside the collected heap) for exact percentiles.
 */
export class CommandStats {
  private readonly byCommand = new Map<string, { count: number; ok: number; no: number; bad: number; incomplete: number; latencies: Latencies }>();
  private readonly rows = commandRows();

  /** Count an exchange in its command's row. True for the first exchange counted in OTHER_COMMANDS: say so then. */
  add(ex: Exchange): boolean {
    const row = this.rows.row(ex.command);
    let s = this.byCommand.get(row);
    const first = this.rows.firstPooled(row);
    if (!s) {
      s = { count: 0, ok: 0, no: 0, bad: 0, incomplete: 0, latencies: { micros: uint32List(), others: float64List(1) } };
      this.byCommand.set(row, s);
    }
    s.count++;
    if (ex.status === 'OK') s.ok++;
    else if (ex.status === 'NO') s.no++;
    else if (ex.status === 'BAD') s.bad++;
    else s.incomplete++;
    const ms = latencyMs(ex);
    if (ms !== null) keepLatency(s.latencies, ms);
    return first;
  }

  summaries(): CommandSummary[] {
    return [...this.byCommand.entries()]
      .map(([command, s]) => {
        const sorted = sortedLatencies(s.latencies);
        return {
          command, count: s.count, ok: s.ok, no: s.no, bad: s.bad, incomplete: s.incomplete,
          medianMs: percentile(sorted, 50), p95Ms: percentile(sorted, 95), maxMs: sorted.length ? sorted[sorted.length - 1]! : null,
        };
      })
      .sort((a, b) => b.count - a.count || a.command.localeCompare(b.command));
  }
}

function keepLatency(l: Latencies, ms: number): void {
  const micros = Math.round(ms * 1e3);
  // Kept as microseconds only when they give back this very number (roundMs made it so, unless it was out of range).
  if (micros >= 0 && micros <= 0xffffffff && micros / 1e3 === ms) pushValue(l.micros, micros);
  else pushValue(l.others, ms);
}

/** Every latency in milliseconds, sorted (the lists are sorted in place: nothing is added after). */
function sortedLatencies(l: Latencies): Float64Array {
  const micros = listValues(l.micros).sort();
  const others = listValues(l.others);
  const all = new Float64Array(micros.length + others.length);
  for (let i = 0; i < micros.length; i++) all[i] = micros[i]! / 1e3;
  if (others.length === 0) return all;
  all.set(others, micros.length);
  return all.sort();
}

/**
 * The server's time to answer, in milliseconds (null when an end is missing): from the request to the
 * tagged completion, less the time the turn was the client's (uploading a literal after "+", answering
 * SASL challenges). IDLE's latency is the time to its "+ idling": the idle period itself is not latency.
 */
export function latencyMs(ex: Exchange): number | null {
  if (!ex.start) return null;
  if (ex.command === 'IDLE' && ex.continuationAt) return roundMs(secondsBetween(ex.start, ex.continuationAt) * 1e3);
  if (!ex.end) return null;
  return roundMs(Math.max(0, secondsBetween(ex.start, ex.end) * 1e3 - ex.clientMs));
}

/** Milliseconds to the microsecond. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1e3) / 1e3;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
