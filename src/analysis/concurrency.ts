import type { Connection, TimePoint } from '../tcp/types.js';
import { compareTime } from '../util/time.js';

export interface Concurrency {
  /** Most IMAP connections open at the same instant. */
  max: number;
  /** For each connection, the ids of those whose lifetime overlapped it. */
  overlaps: { conn: number; with: number[] }[];
}

/** How the connections overlapped in time (lifetime = first to last frame). */
export function concurrency(conns: readonly Connection[]): Concurrency {
  const max = openOverTime(conns).reduce((m, step) => Math.max(m, step.open), 0);
  const overlaps = conns.map((c) => ({
    conn: c.id,
    with: conns.filter((o) => o !== c && compareTime(o.start, c.end) <= 0 && compareTime(c.start, o.end) <= 0).map((o) => o.id),
  }));
  return { max, overlaps };
}

/** How many connections were open from each start or end on: one step per event, in time order. */
export function openOverTime(conns: readonly Connection[]): { t: TimePoint; open: number }[] {
  const events: { t: TimePoint; delta: number }[] = [];
  for (const c of conns) {
    events.push({ t: c.start, delta: 1 }, { t: c.end, delta: -1 });
  }
  // At equal times a start counts before an end: two connections touching at one instant did overlap.
  events.sort((a, b) => compareTime(a.t, b.t) || b.delta - a.delta);
  let open = 0;
  return events.map((e) => ({ t: e.t, open: (open += e.delta) }));
}
