/**
 * Capture seconds a stream keeps its retransmission-check ring after the peer acknowledged every byte in it. A sender
 * retransmits what it has no acknowledgement for, so a copy that comes after the acknowledgement (the ACK lost on its
 * way, a retransmission timer that fired early, a forged copy that raced the real one) comes within a few
 * retransmission timeouts: Linux waits 0.2 s at least and doubles it each time. Then the ring goes back to the pool:
 * a quiet connection holds none (a client that synced and then idles held a whole window each way).
 */
export const ACKNOWLEDGED_HOLD_SECONDS = 10;

/** Streams waiting out the hold at once, at most: past it the oldest gives its ring back early (many went quiet at once). */
export const MAX_HOLDING = 65_536;

/**
 * Queued streams an ended one is looked for among, from the newest (RingHold.forget): held on, it would keep its
 * connection's objects alive for the hold, and a capture of many short sessions paid 4 % of its time collecting them.
 */
const FORGET_SEARCH = 64;

/** A stream in the queue: its turn came at `now` (capture seconds), `early` when the queue was full. */
export interface RingHolder {
  holdPassed(now: number, early: boolean): void;
}

/**
 * Streams waiting out ACKNOWLEDGED_HOLD_SECONDS, in the order they were queued; a stream is in it once at most (it keeps
 * the flag). The time is kept once per capture second, not per stream: `marks` holds pairs of (the number of the first
 * stream queued in that second, the second). Streams are numbered from the first ever queued; `streams[0]` is number
 * `base`.
 */
export class RingHold {
  /** Null where a stream left before its turn (forget). */
  private streams: (RingHolder | null)[] = [];
  /** Those nulls, from `head` on. */
  private left = 0;
  private base = 0;
  private head = 0;
  private marks: number[] = [];
  private markHead = 0;

  /** Streams waiting. */
  get size(): number {
    return this.streams.length - this.head - this.left;
  }

  /** `stream` acknowledged all it remembers at `at` (capture seconds); its turn comes ACKNOWLEDGED_HOLD_SECONDS later. */
  add(stream: RingHolder, at: number): void {
    if (this.size >= MAX_HOLDING) this.passHead(at, true);
    if (this.marks.length === 0 || this.marks[this.marks.length - 1] !== at) this.marks.push(this.base + this.streams.length, at);
    this.streams.push(stream);
  }

  /**
   * `stream` ended: it leaves the hold if it is among the last FORGET_SEARCH queued (most streams settle just before they
   * end). Otherwise its turn finds it ended; meanwhile the hold keeps it, and with it its connection's objects, alive.
   */
  forget(stream: RingHolder): void {
    const stop = Math.max(this.head, this.streams.length - FORGET_SEARCH);
    for (let i = this.streams.length - 1; i >= stop; i--) {
      if (this.streams[i] === stream) {
        this.streams[i] = null;
        this.left++;
        return;
      }
    }
  }

  /** The streams whose turn has come by `now` (capture seconds). */
  due(now: number): void {
    while (this.head < this.streams.length && now - this.headSecond() >= ACKNOWLEDGED_HOLD_SECONDS) this.passHead(now, false);
  }

  /** The second the head stream was queued in. */
  private headSecond(): number {
    const number = this.base + this.head;
    while (this.markHead + 2 < this.marks.length && this.marks[this.markHead + 2]! <= number) this.markHead += 2;
    return this.marks[this.markHead + 1]!;
  }

  private passHead(now: number, early: boolean): void {
    const stream = this.streams[this.head];
    if (stream === null) this.left--;
    this.streams[this.head++] = null;
    if (this.head === this.streams.length) {
      this.base += this.streams.length;
      this.streams = [];
      this.head = 0;
      this.marks = [];
      this.markHead = 0;
    } else if (this.head > 4096 && 2 * this.head > this.streams.length) {
      this.base += this.head;
      this.streams = this.streams.slice(this.head);
      this.head = 0;
      this.marks = this.marks.slice(this.markHead);
      this.markHead = 0;
    }
    stream?.holdPassed(now, early); // last: it may queue itself again
  }
}
