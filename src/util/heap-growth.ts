import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * What the old generation at its next full collection and the memory outside the heap may take before the headroom
 * is cut: the 150 MiB a capture of any size is meant to stay under, less the process's own (code, the young
 * generation, Node's buffers: about 60 MiB).
 */
export const HEAP_ROOM = 88 * 1024 * 1024;

/** How far the old generation may grow past what survived a full collection, once that is large (the bin starts at 100). */
export const LEAN_GROWING_PERCENT = 35;

/** What the watch needs of the process; a test gives its own. */
export interface HeapGrowthHooks {
  /** Bytes in use on this thread's heap (right after a full collection: about what survived it). */
  liveBytes(): number;
  /** Bytes this thread's objects hold outside the heap (typed arrays' and Buffers' memory). */
  outsideBytes(): number;
  /** Sets V8 flags (process-wide). */
  setFlags(flags: string): void;
}

const V8_HOOKS: HeapGrowthHooks = {
  liveBytes: () => getHeapStatistics().used_heap_size,
  outsideBytes: () => getHeapStatistics().external_memory,
  setFlags: setFlagsFromString,
};

let watching = false;
/**
 * The lowest growth any thread of the process asked for, or NOT_ASKED: the flag is the process's, and a thread whose
 * heap needs less of a cut must not raise what another set. The main thread makes it; a worker adopts its parent's
 * (shareGrowthAsked).
 */
const NOT_ASKED = 1000;
let growthAsked = new Int32Array(new SharedArrayBuffer(4)).fill(NOT_ASKED);

/** What a worker is given to share the lowest growth asked with the other threads (its parent's growthAskedBuffer). */
export function growthAskedBuffer(): SharedArrayBuffer {
  return growthAsked.buffer as SharedArrayBuffer;
}

/** This thread (a worker) shares the lowest growth asked with the thread that started it. */
export function shareGrowthAsked(buffer: SharedArrayBuffer): void {
  growthAsked = new Int32Array(buffer);
}

/** Asks for `percent`: the process's lowest ask so far becomes it, if it is lower. Returns the lowest asked now. */
function askGrowth(percent: number): number {
  for (;;) {
    const lowest = Atomics.load(growthAsked, 0);
    if (percent >= lowest || Atomics.compareExchange(growthAsked, 0, lowest, percent) === lowest) return Math.min(percent, lowest);
  }
}

/** Threads analysing at once, each with a heap of its own in the one process: they share the room. */
let sharing = 1;

/**
 * `threads` threads analyse at once from now on (a pool's workers and the thread that started them), or, given 1,
 * this one alone again: each watch's room is that share of it. A worker's own watch is told its share when it starts.
 */
export function shareHeapRoom(threads: number): void {
  sharing = Math.max(1, threads);
}

/** How many threads this thread's watch shares the room with, itself included. */
export function heapRoomShare(): number {
  return sharing;
}

/**
 * The least growth the watch asks for. (V8 lets the old generation grow by 8 MB at least whatever the flag says, and
 * a full collection marks all that survives: with little growth, the pass would be mostly marking.)
 */
export const LEAST_GROWING_PERCENT = 10;

/**
 * How far the old generation may grow past `live` bytes that survived a full collection, in percent, once the
 * headroom is cut: `percent`, or less when that would be more than `headroom` bytes (never less than
 * LEAST_GROWING_PERCENT).
 */
export function leanGrowingPercent(live: number, percent: number, headroom: number): number {
  const capped = Math.floor((100 * headroom) / Math.max(1, live));
  return Math.max(LEAST_GROWING_PERCENT, Math.min(percent, capped));
}

/**
 * Cuts the old generation's headroom once a full collection finds much alive. V8 lets the old generation grow to a
 * multiple of what survived its last full collection before the next (the bin sets twice). When little survives,
 * that headroom is a few MiB and saves collections. When much survives, it will survive every collection again:
 * what open connections keep (200,000 idle mail clients keep 280 MB), or compare's columns of every session of its
 * captures (200,000 sessions keep 51 MB in the heap and 43 MB outside it). Headroom of twice that is garbage
 * waiting, and comes on top of what lies outside the heap. So once twice what survived plus what lies outside passes
 * `room` (or this thread's share of it, shareHeapRoom), the heap grows by `percent` only, and by less once that would
 * be more than half the room: 35 % of 280 MB was 98 MB of garbage waiting (leanGrowingPercent). The watch goes on
 * after the first cut and cuts again as more survives. The flag is process-wide and only ever lowered: threads that
 * share it each ask for what their own heap needs, and the flag is the lowest any asked (growthAsked); an end phase
 * that frees the connections has a small heap, where V8's minimum step decides. For the bin only: a library's host
 * keeps its own flags. Returns whether this call started the watch.
 */
export function leanHeapWhenLarge(room = HEAP_ROOM, percent = LEAN_GROWING_PERCENT, hooks: HeapGrowthHooks = V8_HOOKS): boolean {
  if (watching) return false;
  watching = true;
  /** The growth this thread set the flag to last (Infinity: this thread has not cut it). */
  let set = Infinity;
  const observer = new PerformanceObserver((list) => {
    const major = list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (!major) return;
    const live = hooks.liveBytes();
    const share = room / sharing;
    if (set === Infinity && 2 * live + hooks.outsideBytes() <= share) return;
    // The process's lowest ask, this thread's included: another thread may have asked for less.
    const lowest = askGrowth(leanGrowingPercent(live, percent, share / 2));
    if (lowest >= set) return;
    hooks.setFlags(`--heap-growing-percent=${lowest}`);
    set = lowest;
    if (lowest === LEAST_GROWING_PERCENT) observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
  return true;
}

/** Whether this thread watches its heap (the pool asks its workers to watch theirs too). */
export function watchingHeapGrowth(): boolean {
  return watching;
}
