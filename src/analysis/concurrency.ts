import type { Connection, TimePoint } from '../tcp/types.js';
import { compareTime } from '../util/time.js';

/**
 * When a connection stops being open: its end, or its start when the end's timestamp is earlier (a capture's
 * clock can step back; an interval that ended before it began broke the sweep and wrapped the counts).
 */
export function openUntil(c: Connection): TimePoint {
  return compareTime(c.end, c.start) < 0 ? c.start : c.end;
}

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
  const table = overlapTable(conns);
  return { max: table.max, overlaps: Array.from({ length: conns.length }, (_, i) => table.overlap(i)) };
}

/**
 * concurrency() held in typed arrays (85 bytes per connection: ids are tcp.stream numbers) rather than an object and a list per
 * connection: the summary of 200,000 connections writes each overlap as it goes.
 */
export class OverlapTable {
  constructor(
    private readonly conns: readonly Connection[],
    /** Most connections open at the same instant. */
    readonly max: number,
    private readonly counts: Uint32Array,
    /** MAX_LISTED_OVERLAPS slots per connection, `lengths[i]` of them used. */
    private readonly listed: Uint32Array,
    private readonly lengths: Uint8Array,
  ) {}

  get size(): number {
    return this.conns.length;
  }

  /** The i-th connection's overlap, as concurrency() lists it. */
  overlap(i: number): Concurrency['overlaps'][number] {
    const from = i * MAX_LISTED_OVERLAPS;
    return { conn: this.conns[i]!.id, count: this.counts[i]!, with: Array.from(this.listed.subarray(from, from + this.lengths[i]!)) };
  }
}

export function overlapTable(conns: readonly Connection[]): OverlapTable {
  const n = conns.length;
  const until = conns.map(openUntil);
  // Events as numbers (connection index · 2, + 1 for its end), not objects: there are two per connection.
  const timeOf = (event: number): TimePoint => (event & 1 ? until[event >>> 1]! : conns[event >>> 1]!.start);
  const events = Array.from({ length: 2 * n }, (_, event) => event);
  // At equal times a start counts before an end: two connections touching at one instant did overlap.
  // Then connections in their order (the sort is total, so the sweep is the same on every engine).
  events.sort((a, b) => compareTime(timeOf(a), timeOf(b)) || (a & 1) - (b & 1) || a - b);
  const listed = new Uint32Array(n * MAX_LISTED_OVERLAPS);
  const lengths = new Uint8Array(n);
  const list = (i: number, id: number) => { listed[i * MAX_LISTED_OVERLAPS + lengths[i]!++] = id; };
  /** Indices of the open connections, in the order they opened. */
  const open = new Set<number>();
  /** Open connections whose list still has room: only they need to hear of a newcomer. */
  const withRoom = new Set<number>();
  let max = 0;
  for (const event of events) {
    const i = event >>> 1;
    if (event & 1) {
      open.delete(i);
      withRoom.delete(i);
      continue;
    }
    for (const o of open) {
      if (lengths[i]! >= MAX_LISTED_OVERLAPS) break;
      list(i, conns[o]!.id);
    }
    for (const o of withRoom) {
      list(o, conns[i]!.id);
      if (lengths[o]! >= MAX_LISTED_OVERLAPS) withRoom.delete(o);
    }
    open.add(i);
    if (lengths[i]! < MAX_LISTED_OVERLAPS) withRoom.add(i);
    max = Math.max(max, open.size);
  }
  // Each list in order of id (a typed array sorts numerically).
  for (let i = 0; i < n; i++) listed.subarray(i * MAX_LISTED_OVERLAPS, i * MAX_LISTED_OVERLAPS + lengths[i]!).sort();
  // Exact counts: those that started before this one ended, less those that ended before it started.
  const starts = conns.map((c) => c.start).sort(compareTime);
  const ends = [...until].sort(compareTime);
  const counts = new Uint32Array(n);
  for (let i = 0; i < n; i++) counts[i] = countAtMost(starts, until[i]!, true) - countAtMost(ends, conns[i]!.start, false) - 1;
  return new OverlapTable(conns, max, counts, listed, lengths);
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
  for (const c of conns) events.push({ t: c.start, delta: 1 }, { t: openUntil(c), delta: -1 });
  // As in concurrency(): at equal times a start counts before an end.
  events.sort((a, b) => compareTime(a.t, b.t) || b.delta - a.delta);
  let open = 0;
  return events.map((e) => ({ t: e.t, open: (open += e.delta) }));
}
