import type { Connection, TimePoint } from '../tcp/types.js';
import { compareTime } from '../util/time.js';
import { growableColumn, growInPlace, grownCapacity, permutedColumn } from '../util/typed-list.js';

/** What the lifetime columns keep of a connection: its id (tcp.stream), its first and last frame's times (what concurrency reads), and its last frame. */
export type Lifetime = Pick<Connection, 'id' | 'start' | 'end' | 'lastFrame'>;

/** What a connection row shows that its close does not settle: its last frame and end (and its start, beside them). */
export type RowTimes = Pick<Connection, 'lastFrame' | 'start' | 'end'>;

/**
 * When a connection stops being open: its end, or its start when the end's timestamp is earlier (a capture's
 * clock can step back; an interval that ended before it began broke the sweep and wrapped the counts).
 */
export function openUntil(c: Pick<Connection, 'start' | 'end'>): TimePoint {
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
export function concurrency(conns: readonly Lifetime[]): Concurrency {
  const table = overlapTable(lifetimesOf(conns));
  return { max: table.max, overlaps: Array.from({ length: conns.length }, (_, i) => table.overlap(i)) };
}

/**
 * Connections' lifetimes in columns (38 bytes each rather than three objects): a summary of 300,000 sessions keeps one
 * per session. Plain data, it crosses threads. Times are seconds, nanoseconds and the digits they are shown with. Beside
 * what concurrency reads (start and end; openUntil is derived when the overlaps are counted), each connection's last
 * frame: with the end, what a row written at the connection's close is completed with as it is read (the last ACKs
 * move them after the close).
 */
export interface Lifetimes {
  size: number;
  ids: Uint32Array;
  startSec: Float64Array;
  startNsec: Uint32Array;
  startDigits: Uint8Array;
  endSec: Float64Array;
  endNsec: Uint32Array;
  endDigits: Uint8Array;
  lastFrame: Float64Array;
}

/** Each column and the array it is kept in. */
const COLUMNS = {
  ids: Uint32Array, startSec: Float64Array, startNsec: Uint32Array, startDigits: Uint8Array,
  endSec: Float64Array, endNsec: Uint32Array, endDigits: Uint8Array, lastFrame: Float64Array,
} as const;
const COLUMN_NAMES = Object.keys(COLUMNS) as (keyof typeof COLUMNS)[];

/** Builds Lifetimes one connection at a time (with room for `capacity` before the columns grow). */
export class LifetimeColumns {
  private columns: Lifetimes;

  /** With `inPlace`, the columns grow where they stand (growableColumn): for one that grows with the capture. */
  constructor(capacity = 64, inPlace = false) {
    this.columns = emptyLifetimes(Math.max(1, capacity), inPlace);
  }

  /** The ids pushed so far: a view, valid until the next push. */
  get ids(): Uint32Array {
    return this.columns.ids.subarray(0, this.columns.size);
  }

  /** Add a connection; returns its index. */
  push(c: Lifetime): number {
    let l = this.columns;
    if (l.size === l.ids.length) {
      const capacity = grownCapacity(l.size);
      if (!COLUMN_NAMES.every((name) => growInPlace(l[name], capacity))) l = this.columns = resized(l, capacity);
    }
    const i = l.size++;
    l.ids[i] = c.id;
    l.startSec[i] = c.start.sec;
    l.startNsec[i] = c.start.nsec;
    l.startDigits[i] = c.start.digits;
    this.settle(i, c);
    return i;
  }

  /** The i-th connection's last frame and end are these. */
  settle(i: number, late: Pick<Connection, 'lastFrame' | 'end'>): void {
    const l = this.columns;
    l.endSec[i] = late.end.sec;
    l.endNsec[i] = late.end.nsec;
    l.endDigits[i] = late.end.digits;
    l.lastFrame[i] = late.lastFrame;
  }

  /** The lifetimes in `order` (indices in the order pushed; by default that order, uncopied: push no more then). */
  take(order?: ArrayLike<number>): Lifetimes {
    return order ? permuted(this.columns, order) : trimmed(this.columns);
  }
}

export function lifetimesOf(conns: readonly Lifetime[]): Lifetimes {
  const columns = new LifetimeColumns(conns.length);
  for (const c of conns) columns.push(c);
  return columns.take();
}

/** The same lifetimes in columns of room for `capacity` (at least their number). */
function resized(l: Lifetimes, capacity: number): Lifetimes {
  const out = emptyLifetimes(capacity);
  for (const name of COLUMN_NAMES) out[name].set(l[name].subarray(0, l.size));
  out.size = l.size;
  return out;
}

/** The same lifetimes, as views of their columns cut to their number. */
function trimmed(l: Lifetimes): Lifetimes {
  const out = { size: l.size } as Lifetimes;
  for (const name of COLUMN_NAMES) (out as unknown as Record<string, unknown>)[name] = l[name].subarray(0, l.size);
  return out;
}

function emptyLifetimes(capacity: number, inPlace = false): Lifetimes {
  const l = { size: 0 } as Lifetimes;
  for (const name of COLUMN_NAMES) {
    const type = COLUMNS[name] as typeof Float64Array;
    (l as unknown as Record<string, unknown>)[name] = inPlace ? growableColumn(type, capacity) : new type(capacity);
  }
  return l;
}

/** The lifetimes at `order`'s indices. */
export function permuted(l: Lifetimes, order: ArrayLike<number>): Lifetimes {
  const out = { size: order.length } as Lifetimes;
  for (const name of COLUMN_NAMES) (out as unknown as Record<string, unknown>)[name] = permutedColumn(l[name], order);
  return out;
}

/** The i-th start, or with `until` the i-th openUntil, as a time. */
export function lifetimeTime(l: Lifetimes, i: number, until = false): TimePoint {
  const start = { sec: l.startSec[i]!, nsec: l.startNsec[i]!, digits: 9 };
  return until ? openUntil({ start, end: { sec: l.endSec[i]!, nsec: l.endNsec[i]!, digits: 9 } }) : start;
}

/** Does the i-th connection's end lie before its start (a clock stepping back)? Then it is open until its start. */
function endsBeforeStart(l: Lifetimes, i: number): boolean {
  return (l.endSec[i]! - l.startSec[i]! || l.endNsec[i]! - l.startNsec[i]!) < 0;
}

/** The latest openUntil of the lifetimes (there is at least one), compared as numbers: no time object per connection. */
export function latestUntil(l: Lifetimes): TimePoint {
  let sec = -Infinity;
  let nsec = 0;
  for (let i = 0; i < l.size; i++) {
    const early = endsBeforeStart(l, i);
    const s = early ? l.startSec[i]! : l.endSec[i]!;
    const n = early ? l.startNsec[i]! : l.endNsec[i]!;
    if ((s - sec || n - nsec) > 0) {
      sec = s;
      nsec = n;
    }
  }
  return { sec, nsec, digits: 9 };
}

/** Each connection's openUntil, in columns (made when the overlaps are counted: only summary counts them). */
interface UntilColumns {
  sec: Float64Array;
  nsec: Uint32Array;
}

function untilColumns(l: Lifetimes): UntilColumns {
  const sec = l.endSec.slice(0, l.size);
  const nsec = l.endNsec.slice(0, l.size);
  for (let i = 0; i < l.size; i++) {
    if (endsBeforeStart(l, i)) {
      sec[i] = l.startSec[i]!;
      nsec[i] = l.startNsec[i]!;
    }
  }
  return { sec, nsec };
}

/** The i-th connection's first and last frame times and last frame, as its record has them (digits included). */
export function rowTimes(l: Lifetimes, i: number): RowTimes {
  return {
    lastFrame: l.lastFrame[i]!,
    start: { sec: l.startSec[i]!, nsec: l.startNsec[i]!, digits: l.startDigits[i]! },
    end: { sec: l.endSec[i]!, nsec: l.endNsec[i]!, digits: l.endDigits[i]! },
  };
}

/** Indices of the lifetimes in order of start (ties in their order). */
export function startOrder(l: Lifetimes): Uint32Array {
  const order = Uint32Array.from({ length: l.size }, (_, i) => i);
  return order.sort((x, y) => l.startSec[x]! - l.startSec[y]! || l.startNsec[x]! - l.startNsec[y]! || x - y);
}

/**
 * concurrency() held in typed arrays rather than an object and a list per connection: the summary of 200,000
 * connections writes each overlap as it goes. Each connection's listed ids take min(count, MAX_LISTED_OVERLAPS)
 * places, one after another (about 12 bytes per connection and 4 per listed id; ids are tcp.stream numbers).
 */
export class OverlapTable {
  constructor(
    private readonly ids: Uint32Array,
    /** Most connections open at the same instant. */
    readonly max: number,
    private readonly counts: Uint32Array,
    /** The listed ids of connection i are listed[firsts[i]] up to listed[firsts[i + 1]]. */
    private readonly listed: Uint32Array,
    private readonly firsts: Uint32Array,
  ) {}

  get size(): number {
    return this.ids.length;
  }

  /** The i-th connection's overlap, as concurrency() lists it. */
  overlap(i: number): Concurrency['overlaps'][number] {
    return { conn: this.ids[i]!, count: this.counts[i]!, with: Array.from(this.listed.subarray(this.firsts[i]!, this.firsts[i + 1]!)) };
  }
}

export function overlapTable(l: Lifetimes): OverlapTable {
  const n = l.size;
  const until = untilColumns(l);
  const counts = overlapCounts(l, until);
  // Every overlapping connection is listed until the list is full, so a list's length is known before the sweep.
  const firsts = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) firsts[i + 1] = firsts[i]! + Math.min(counts[i]!, MAX_LISTED_OVERLAPS);
  const listed = new Uint32Array(firsts[n]!);
  const next = firsts.slice(0, n);
  const hasRoom = (i: number) => next[i]! < firsts[i + 1]!;
  const events = eventsUntil(l, until);
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
      if (!hasRoom(i)) break;
      listed[next[i]!++] = l.ids[o]!;
    }
    for (const o of withRoom) {
      listed[next[o]!++] = l.ids[i]!;
      if (!hasRoom(o)) withRoom.delete(o);
    }
    open.add(i);
    if (hasRoom(i)) withRoom.add(i);
    max = Math.max(max, open.size);
  }
  // Each list in order of id (a typed array sorts numerically).
  for (let i = 0; i < n; i++) listed.subarray(firsts[i]!, firsts[i + 1]!).sort();
  return new OverlapTable(l.ids.slice(0, n), max, counts, listed, firsts);
}

/**
 * Each connection's opening and its openUntil as events in time order: numbers (connection index · 2, + 1 for its end),
 * not objects, for there are two per connection. At equal times a start counts before an end (two connections touching
 * at one instant did overlap), then connections in their order (the sort is total, so a sweep is the same on every
 * engine).
 */
export function lifetimeEvents(l: Lifetimes): Uint32Array {
  return eventsUntil(l, untilColumns(l));
}

function eventsUntil(l: Lifetimes, until: UntilColumns): Uint32Array {
  const secOf = (event: number) => (event & 1 ? until.sec : l.startSec)[event >>> 1]!;
  const nsecOf = (event: number) => (event & 1 ? until.nsec : l.startNsec)[event >>> 1]!;
  const events = Uint32Array.from({ length: 2 * l.size }, (_, event) => event);
  return events.sort((a, b) => secOf(a) - secOf(b) || nsecOf(a) - nsecOf(b) || (a & 1) - (b & 1) || a - b);
}

/** Exact counts: those that started before each connection ended, less those that ended before it started. */
function overlapCounts(l: Lifetimes, until: UntilColumns): Uint32Array {
  const n = l.size;
  const starts = sortedTimes(l.startSec, l.startNsec, n);
  const ends = sortedTimes(until.sec, until.nsec, n);
  const counts = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    counts[i] = countAtMost(starts, until.sec[i]!, until.nsec[i]!, true) - countAtMost(ends, l.startSec[i]!, l.startNsec[i]!, false) - 1;
  }
  return counts;
}

/** Times in columns, sorted. */
interface SortedTimes {
  sec: Float64Array;
  nsec: Uint32Array;
}

function sortedTimes(sec: Float64Array, nsec: Uint32Array, n: number): SortedTimes {
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = (sec[i - 1]! - sec[i]! || nsec[i - 1]! - nsec[i]!) <= 0;
  // Starts come in the order connections opened, which is their time order but when a clock steps back.
  if (sorted) return { sec: sec.subarray(0, n), nsec: nsec.subarray(0, n) };
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => sec[a]! - sec[b]! || nsec[a]! - nsec[b]!);
  return { sec: Float64Array.from(order, (i) => sec[i]!), nsec: Uint32Array.from(order, (i) => nsec[i]!) };
}

/** How many sorted times are before (sec, nsec) (or at it, when `inclusive`). */
function countAtMost(sorted: SortedTimes, sec: number, nsec: number, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.sec.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = sorted.sec[mid]! - sec || sorted.nsec[mid]! - nsec;
    if (c < 0 || (inclusive && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Up to this many lifetimes, mostOpenOfFew is the cheaper way to count the most open at once. */
export const FEW_LIFETIMES = 16;

/**
 * The most of a few lifetimes open at once, as openOverTime(...).max counts them (at one instant a start counts before
 * an end), from their times as numbers, four each: start seconds and nanoseconds, end seconds and nanoseconds. No
 * columns and no sorted events (a profile per client address is one or two connections, and 100,000 of them each
 * made its columns three times): the count is highest just after some start, where it is the number started by then
 * less the number that had ended before.
 */
export function mostOpenOfFew(times: readonly number[]): number {
  let most = 0;
  for (let i = 0; i < times.length; i += 4) {
    const sec = times[i]!;
    const nsec = times[i + 1]!;
    let open = 0;
    for (let j = 0; j < times.length; j += 4) {
      const startSec = times[j]!;
      const startNsec = times[j + 1]!;
      if (startSec > sec || (startSec === sec && startNsec > nsec)) continue;
      // One that ends before it starts is open until its start (untilColumns).
      const endsFirst = times[j + 2]! < startSec || (times[j + 2] === startSec && times[j + 3]! < startNsec);
      const untilSec = endsFirst ? startSec : times[j + 2]!;
      const untilNsec = endsFirst ? startNsec : times[j + 3]!;
      if (untilSec < sec || (untilSec === sec && untilNsec < nsec)) continue;
      open++;
    }
    most = Math.max(most, open);
  }
  return most;
}

/**
 * How many connections were open from each start or end on: one step per event, in time order (the report's chart),
 * made as it is read (two steps per connection: 133,000 sessions made 266,000 objects). Read it as often as needed.
 */
export function openOverTime(l: Lifetimes): { steps(): Generator<{ t: Pick<TimePoint, 'sec' | 'nsec'>; open: number }>; max: number } {
  const until = untilColumns(l);
  const events = eventsUntil(l, until);
  function* steps(): Generator<{ t: Pick<TimePoint, 'sec' | 'nsec'>; open: number }> {
    let open = 0;
    // As in concurrency(): at equal times a start counts before an end.
    for (const event of events) {
      const i = event >>> 1;
      const end = (event & 1) === 1;
      open += end ? -1 : 1;
      yield { t: end ? { sec: until.sec[i]!, nsec: until.nsec[i]! } : { sec: l.startSec[i]!, nsec: l.startNsec[i]! }, open };
    }
  }
  // The most at once, counted over the same events without making the steps.
  let open = 0;
  let max = 0;
  for (const event of events) max = Math.max(max, (open += event & 1 ? -1 : 1));
  return { steps, max };
}
