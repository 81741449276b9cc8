import type { Connection, TimePoint } from '../tcp/types.js';
import { compareTime } from '../util/time.js';

/** Overlapping connections listed per connection; the count is always exact. */
export const MAX_LISTED_OVERLAPS = 20;

export interface Concurrency {
  /** Most IMAP connections open at the same instant. */
  max: number;
  /**
   * For each connection, how many others' lifetimes overlapped it and the ids of the first of them
   * (at most MAX_LISTED_OVERLAPS, in the order they opened).
   */
  overlaps: { conn: number; count: number; with: number[] }[];
}

/**
 * How the connections overlapped in time (lifetime = first to last frame). One sweep over start and end
 * events: O(n log n) plus at most MAX_LISTED_OVERLAPS listed ids per connection, whatever the number of
 * connections open at once.
 */
export function concurrency(conns: readonly Connection[]): Concurrency {
  const events: { c: Connection; start: boolean }[] = [];
  for (const c of conns) events.push({ c, start: true }, { c, start: false });
  // At equal times a start counts before an end: two connections touching at one instant did overlap.
  events.sort((a, b) => compareTime(a.start ? a.c.start : a.c.end, b.start ? b.c.start : b.c.end) || Number(b.start) - Number(a.start));
  const listed = new Map<Connection, number[]>(conns.map((c) => [c, []]));
  const open = new Set<Connection>();
  /** Open connections whose list still has room: only they need to hear of a newcomer. */
  const withRoom = new Set<Connection>();
  let max = 0;
  for (const { c, start } of events) {
    if (!start) {
      open.delete(c);
      withRoom.delete(c);
      continue;
    }
    const mine = listed.get(c)!;
    for (const o of open) {
      if (mine.length >= MAX_LISTED_OVERLAPS) break;
      mine.push(o.id);
    }
    for (const o of withRoom) {
      const theirs = listed.get(o)!;
      theirs.push(c.id);
      if (theirs.length >= MAX_LISTED_OVERLAPS) withRoom.delete(o);
    }
    open.add(c);
    if (mine.length < MAX_LISTED_OVERLAPS) withRoom.add(c);
    max = Math.max(max, open.size);
  }
  // Exact counts: those that started before this one ended, less those that ended before it started.
  const starts = conns.map((c) => c.start).sort(compareTime);
  const ends = conns.map((c) => c.end).sort(compareTime);
  const overlaps = conns.map((c) => ({
    conn: c.id,
    count: countAtMost(starts, c.end, true) - countAtMost(ends, c.start, false) - 1,
    with: listed.get(c)!.sort((a, b) => a - b),
  }));
  return { max, overlaps };
}

/** How many sorted times are before `t` (or at it, when `inclusive`). */
function countAtMost(sorted: readonly Connection['start'][], t: Connection['start'], inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareTime(sorted[mid]!, t);
    if (c < 0 || (inclusive && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many connections were open from each start or end on: one step per event, in time order (the report's chart). */
export function openOverTime(conns: readonly Connection[]): { t: TimePoint; open: number }[] {
  const events: { t: TimePoint; delta: number }[] = [];
  for (const c of conns) events.push({ t: c.start, delta: 1 }, { t: c.end, delta: -1 });
  // As in concurrency(): at equal times a start counts before an end.
  events.sort((a, b) => compareTime(a.t, b.t) || b.delta - a.delta);
  let open = 0;
  return events.map((e) => ({ t: e.t, open: (open += e.delta) }));
}
