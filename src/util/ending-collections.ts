import { getHeapStatistics } from 'node:v8';

/** The heap in use and the memory its objects hold outside it (buffers, typed columns): both wait for a collection. */
export function inUse(): number {
  const heap = getHeapStatistics();
  return heap.used_heap_size + heap.external_memory;
}

/** Fewer connections open at the end than this: a full collection costs more than it saves. */
export const MANY_OPEN_AT_END = 10_000;

/**
 * When to collect the garbage while many open connections end at once, at the end of the input.
 *
 * What each connection held while open (about 1.4 KiB) becomes garbage in the old generation as it ends, and what
 * ending it allocates (its record's counts, its last output, the rows a report or a dataset keeps) hangs on old
 * objects, so it is promoted too, into the old generation. V8 collects the old generation only once it has doubled,
 * so without help the second comes on top of the first.
 *
 * The first collection comes after the first tenth of them: what those held makes room. A view that keeps more per
 * ended connection fills that room before the end; so afterwards, whenever the heap in use is back at the level the
 * last collection started from, and another tenth has ended since, it collects again: the heap in use stays at the
 * level it had when the connections began to end, and there are at most ten collections. Once the last has ended, it
 * collects once more: what the view does after the pass (a dataset's tables, a page) then has the room they left.
 */
export class EndingCollections {
  private last = 0;
  private ceiling = Number.POSITIVE_INFINITY;

  constructor(
    private readonly openAtEnd: number,
    private readonly heapInUse: () => number = inUse,
  ) {}

  /** Whether to collect now, after `ended` of the connections have ended (checked once per batch of them). */
  due(ended: number): boolean {
    if (this.openAtEnd < MANY_OPEN_AT_END) return false;
    const tenth = Math.ceil(this.openAtEnd / 10);
    if (ended - this.last < tenth) return false;
    const level = this.heapInUse();
    if (this.last !== 0 && level < this.ceiling) return false;
    this.ceiling = level;
    this.last = ended;
    return true;
  }

  /** Whether to collect once every one of them has ended. */
  get dueAtTheEnd(): boolean {
    return this.openAtEnd >= MANY_OPEN_AT_END;
  }
}
