import type { Exchange } from '../imap/model.js';

/**
 * Past this many complete exchanges waiting behind an unfinished one (a long IDLE), order gives way to
 * memory. Unfinished ones do not count: their sessions hold them anyway (many open connections).
 */
export const MAX_WAITING = 100_000;

/** What a released exchange's slots hold until the queue is cut. */
const RELEASED = null as unknown as Exchange;

/** In an exchange's place: its owner ended here (two slots, no object: many connections may end at once). */
const ENDED = Object.freeze({}) as Exchange;

/**
 * Releases exchanges in the order their requests appeared in the capture, across all connections,
 * while they complete in any order. Commands open in frame order, so a FIFO suffices: the head leaves
 * once it is complete. Memory is what is in flight behind the oldest unfinished command. Each exchange
 * travels with its owner (its connection), which the queue holds beside it: no map, no pair object.
 * An owner that ended is handed to `drained` once its last exchange has gone (see ended()).
 */
export class ExchangeOrderer<O = void> {
  /** Exchanges in request order, each followed by its owner; ENDED takes the place of an exchange. */
  private queue: (Exchange | O)[] = [];
  private head = 0;
  private readonly done = new Set<Exchange>();
  /** Owners that ended while their newest exchange waited in `done`, by that exchange: they leave right after it. */
  private readonly drainsAfter = new Map<Exchange, O>();
  private overflowed = false;

  constructor(
    private readonly release: (ex: Exchange, owner: O) => void,
    /** The cap was hit, the first time: `blocking` is the unfinished exchange at the head, `completing` the one that tipped it. */
    private readonly onOverflow: (blocking: Exchange, completing: Exchange) => void,
    private readonly drained: (owner: O) => void = () => {},
  ) {}

  opened(ex: Exchange, owner: O): void {
    this.queue.push(ex, owner);
  }

  completed(ex: Exchange): void {
    // Most exchanges complete at the head of the queue: they leave at once, without a visit to `done` (adding to
    // and taking from a set that empties again made it a new table each time, one per exchange).
    if (this.queue[this.head] !== ex) this.done.add(ex);
    else this.releaseHead();
    this.drain();
    // Each forced release empties `done`, so the scan it makes is paid for by as many completions.
    if (this.done.size > MAX_WAITING) this.forceOut(ex);
  }

  /**
   * The owner opens no more exchanges and each of its own is complete (its connection ended): it goes to `drained`
   * after its last exchange has been released. `newest` is that exchange when the owner knows it (ImapSession.close):
   * the owner leaves with it, or at once if it has gone. Otherwise it leaves once every exchange opened so far has
   * gone. (At the end of the input every open connection ends with its command outstanding: behind every other one,
   * each ended connection's record would wait for the last to end.)
   */
  ended(owner: O, newest: Exchange | null = null): void {
    if (newest !== null) {
      if (this.done.has(newest)) this.drainsAfter.set(newest, owner);
      else this.drained(owner); // complete and not waiting: released already
    } else if (this.head === this.queue.length) {
      this.drained(owner);
    } else {
      this.queue.push(ENDED, owner);
    }
  }

  /** End of input: everything left goes out in order (the unfinished ones as incomplete). */
  flush(): void {
    for (let i = this.head; i < this.queue.length; i += 2) this.emit(this.queue[i] as Exchange, this.queue[i + 1] as O);
    this.queue = [];
    this.head = 0;
    this.done.clear();
    this.drainsAfter.clear();
  }

  private drain(): void {
    while (this.head < this.queue.length) {
      const ex = this.queue[this.head] as Exchange;
      if (ex !== ENDED && !this.done.delete(ex)) break;
      this.releaseHead();
    }
    if (this.head > 2048 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** The head leaves: its slots no longer hold it (they are reclaimed when the queue is cut). */
  private releaseHead(): void {
    const ex = this.queue[this.head] as Exchange;
    const owner = this.queue[this.head + 1] as O;
    this.queue[this.head] = this.queue[this.head + 1] = RELEASED;
    this.head += 2;
    this.emit(ex, owner);
  }

  private forceOut(completing: Exchange): void {
    if (!this.overflowed) {
      this.overflowed = true;
      this.onOverflow(this.queue[this.head] as Exchange, completing);
    }
    const keep: (Exchange | O)[] = [];
    for (let i = this.head; i < this.queue.length; i += 2) {
      const ex = this.queue[i] as Exchange;
      const owner = this.queue[i + 1] as O;
      // An owner's end comes after its exchanges, all complete: they go out in this pass, before it.
      if (ex === ENDED || this.done.has(ex)) {
        this.done.delete(ex);
        this.emit(ex, owner);
      } else {
        keep.push(ex, owner);
      }
    }
    this.queue = keep;
    this.head = 0;
  }

  private emit(ex: Exchange, owner: O): void {
    if (ex === ENDED) {
      this.drained(owner);
      return;
    }
    this.release(ex, owner);
    if (this.drainsAfter.size > 0 && this.drainsAfter.has(ex)) {
      const ended = this.drainsAfter.get(ex)!;
      this.drainsAfter.delete(ex);
      this.drained(ended);
    }
  }
}
