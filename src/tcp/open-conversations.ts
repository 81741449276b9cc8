import { getHeapStatistics } from 'node:v8';
import type { WarningSink } from '../capture/types.js';
import { Fifo } from '../util/fifo.js';

/**
 * Heap an open conversation is allowed when the cap is set from the heap limit: an idle IMAPS client decrypted with a
 * key log, the heaviest kind measured, keeps about 3 KiB (docs/benchmarks.md), and the old generation grows to twice
 * what it keeps before it is collected (the bin's --heap-growing-percent=100). Past the limit V8 ends the process.
 */
export const OPEN_CONVERSATION_BUDGET = 8 * 1024;
/** The cap is never below this, whatever the heap limit. */
const MIN_OPEN_CAP = 1024;
/** Conversations that left while in the clock's queue, more than are open, before it is compacted. */
const COMPACT_AFTER = 1024;
/** Conversations let go that get a warning each; the rest are counted in one at the end. */
export const LET_GO_WARNED = 10;

/**
 * Conversations open at once, at most, in this thread's heap: about 525,000 with Node's default 4 GiB limit on a
 * 64-bit machine, more with NODE_OPTIONS=--max-old-space-size.
 */
export function openConversationCap(heapLimit = getHeapStatistics().heap_size_limit): number {
  return Math.max(MIN_OPEN_CAP, Math.floor(heapLimit / OPEN_CONVERSATION_BUDGET));
}

/** What the clock needs of a conversation. */
export interface Clocked {
  /** It is still open (it neither ended nor was let go). */
  readonly isOpen: boolean;
  /** It took a segment since the clock last passed it; passing it clears that. */
  passed(): boolean;
}

/**
 * The conversations open at once, counted, and which of them to let go at the cap: one quiet for long, found the way
 * an operating system's page clock finds a page (a second chance for those that took a segment since the hand last
 * passed them). Nothing is kept per conversation until the cap is first reached: then the hand's queue is made, of the
 * open ones by age, and kept as they open and leave.
 */
export class OpenConversations<C extends Clocked> {
  private count = 0;
  /** The clock's queue, oldest first; null until the cap is first reached. */
  private queue: Fifo<C> | null = null;

  constructor(readonly cap: number) {}

  get size(): number {
    return this.count;
  }

  /** No room for another one: one must be let go before it opens. */
  get full(): boolean {
    return this.count >= this.cap;
  }

  opened(c: C): void {
    this.count++;
    this.queue?.push(c);
  }

  /** It ended (or was let go). */
  left(): void {
    this.count--;
    // Every open one is in the queue once; those that left are skipped when the hand reaches them, and dropped before
    // they outnumber the open ones by COMPACT_AFTER (a capture whose connections stay under the cap once it was reached
    // would otherwise keep every one that ended since).
    if (this.queue !== null && this.queue.length - this.count > this.count + COMPACT_AFTER) this.queue.retain((c) => c.isOpen);
  }

  /**
   * The one to let go now: the first by the hand that took no segment since the hand last passed it. `open` lists those
   * open, oldest first (asked once, when the cap is first reached). The caller lets it go, and says it left.
   */
  quietest(open: () => C[]): C {
    const queue = (this.queue ??= new Fifo(open()));
    for (;;) {
      const c = queue.shift()!;
      if (!c.isOpen) continue; // it left: skipped
      if (!c.passed()) return c;
      queue.push(c); // its second chance
    }
  }

  /** Conversations the hand's queue holds (for tests). */
  get queued(): number {
    return this.queue === null ? 0 : this.queue.length;
  }
}

/** The warnings for conversations let go at the cap: LET_GO_WARNED of them one by one, then a count at the end. */
export class LetGoWarnings {
  private count = 0;
  private connections = 0;
  private lastFrame: number | null = null;

  constructor(
    private readonly warn: WarningSink,
    private readonly cap: number,
    /** The cap came from the heap limit (not from the caller). */
    private readonly fromHeap: boolean,
  ) {}

  /** Conversation `id` is let go at `frame`; `lastFrame` is its record's last frame when it is an IMAP connection. */
  letGo(id: number, lastFrame: number | null, frame: number): void {
    if (++this.count > LET_GO_WARNED) {
      if (lastFrame !== null) this.connections++;
      this.lastFrame = frame;
      return;
    }
    const what = lastFrame === null ? `TCP conversation ${id}` : `connection ${id} (its last segment was frame ${lastFrame})`;
    const cap = this.cap.toLocaleString('en-US');
    const raise = this.fromHeap ? ', from the heap limit: NODE_OPTIONS=--max-old-space-size=<MiB> raises it' : '';
    const message = this.count === 1
      ? `more than ${cap} TCP conversations open at once (the cap${raise}): ${what}, quiet for long, is let go here. It ends as it would at the end of the capture, and a later segment of it would start a new conversation with a new id (Wireshark's tcp.stream keeps the old one)`
      : `${what}, quiet for long, is let go here: more than ${cap} TCP conversations are open at once (the cap)`;
    this.warn(lastFrame === null ? { frame, message } : { frame, conn: id, message });
  }

  /** The input ended: those let go after the first LET_GO_WARNED, counted, at the frame that let the last one go. */
  end(): void {
    const more = this.count - LET_GO_WARNED;
    if (more <= 0) return;
    this.warn({
      frame: this.lastFrame,
      message: `${more} more TCP conversation(s) (${this.connections} of them IMAP connections) were let go the same way at the cap on open ones (${this.cap.toLocaleString('en-US')}), the last in this frame`,
    });
  }
}
