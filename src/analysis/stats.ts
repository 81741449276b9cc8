import type { Exchange } from '../imap/model.js';
import { float64List, float64Values, pushFloat64, type Float64List } from '../util/float64-list.js';
import { secondsBetween } from '../util/time.js';

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
 * Per-command counts and latency percentiles, built one exchange at a time. Latencies are kept (8 bytes each, outside
 * the collected heap) for exact percentiles.
 */
export class CommandStats {
  private readonly byCommand = new Map<string, { count: number; ok: number; no: number; bad: number; incomplete: number; latencies: Float64List }>();

  add(ex: Exchange): void {
    let s = this.byCommand.get(ex.command);
    if (!s) {
      s = { count: 0, ok: 0, no: 0, bad: 0, incomplete: 0, latencies: float64List() };
      this.byCommand.set(ex.command, s);
    }
    s.count++;
    if (ex.status === 'OK') s.ok++;
    else if (ex.status === 'NO') s.no++;
    else if (ex.status === 'BAD') s.bad++;
    else s.incomplete++;
    const ms = latencyMs(ex);
    if (ms !== null) pushFloat64(s.latencies, ms);
  }

  summaries(): CommandSummary[] {
    return [...this.byCommand.entries()]
      .map(([command, s]) => {
        const sorted = float64Values(s.latencies).slice().sort();
        return {
          command, count: s.count, ok: s.ok, no: s.no, bad: s.bad, incomplete: s.incomplete,
          medianMs: percentile(sorted, 50), p95Ms: percentile(sorted, 95), maxMs: sorted.length ? sorted[sorted.length - 1]! : null,
        };
      })
      .sort((a, b) => b.count - a.count || a.command.localeCompare(b.command));
  }
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
