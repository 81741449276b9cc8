import type { Exchange } from '../imap/model.js';

/**
 * Complete exchanges waiting behind an unfinished one (an IDLE, a command whose answer the capture lost), at most, by
 * count and by the weight of their texts: past either, the unfinished one stops holding them back (see letGo). About
 * 1 KiB each on a folder sync: 100,000 of them took the peak from 96 to 246 MiB on a 4 GiB capture. Unfinished ones do
 * not count: their sessions hold them anyway (many open connections).
 */
export const MAX_WAITING = 10_000;
export const MAX_WAITING_BYTES = 16 * 1024 * 1024;

/** What a complete exchange holds while it waits, roughly: its objects, and its texts (arguments can be a megabyte). */
function waitingWeight(ex: Exchange): number {
  const clear = ex.argsClear === ex.args ? 0 : ex.argsClear.length;
  return 1024 + ex.args.length + clear + ex.shape.length + ex.text.length + (ex.code?.length ?? 0);
}

/** What a released exchange's slots hold until the queue is cut. */
const RELEASED = null as unknown as Exchange;

/** In an exchange's place: its owner ended here (two slots, no object: many connections may end at once). */
const ENDED = Object.freeze({}) as Exchange;

/**
 * Releases exchanges in the order their requests appeared in the capture, across all connections,
 * while they complete in any order. Commands open in frame order, so a FIFO suffices: the head leaves
 * once it is complete. Memory is what is in flight behind the oldest unfinished command, within
 * MAX_WAITING: an unfinished command that holds back more leaves the order and goes out when it completes.
 * Each exchange travels with its owner (its connection), which the queue holds beside it: no map, no
 * pair object. An owner that ended is handed to `drained` once its last exchange has gone (see ended()).
 */
export class ExchangeOrderer<O = void> {
  /** Exchanges in request order, each followed by its owner; ENDED takes the place of an exchange. */
  private queue: (Exchange | O)[] = [];
  private head = 0;
  /** Complete exchanges waiting behind an unfinished one, each with its waitingWeight (counted once, taken off as it was). */
  private readonly done = new Map<Exchange, number>();
  /** ENDED marks in the queue: each holds an owner (its connection's record) as a complete exchange would. */
  private endsWaiting = 0;
  /** The weights in `done`, summed. */
  private waitingBytes = 0;
  /** Unfinished exchanges that held back too much, taken out of the order, with their owners: each goes out when it completes. */
  private readonly late = new Map<Exchange, O>();
  /** Owners that ended while their newest exchange waited in `done`, by that exchange: they leave right after it. */
  private readonly drainsAfter = new Map<Exchange, O>();

  constructor(
    private readonly release: (ex: Exchange, owner: O) => void,
    /** The cap was hit: `blocking`, unfinished, leaves the order (each one let go), at `frame` (what tipped it), if known. */
    private readonly onLetGo: (blocking: Exchange, frame: number | null) => void,
    private readonly drained: (owner: O) => void = () => {},
  ) {}

  opened(ex: Exchange, owner: O): void {
    this.queue.push(ex, owner);
  }

  completed(ex: Exchange): void {
    if (this.late.size > 0 && this.late.has(ex)) {
      const owner = this.late.get(ex) as O;
      this.late.delete(ex);
      this.emit(ex, owner);
      return;
    }
    // Most exchanges complete at the head of the queue: they leave at once, without a visit to `done` (adding to
    // and taking from a set that empties again made it a new table each time, one per exchange).
    if (this.queue[this.head] !== ex) {
      const weight = waitingWeight(ex);
      this.done.set(ex, weight);
      this.waitingBytes += weight;
    } else {
      this.releaseHead();
    }
    this.drain();
    if (this.overCap) this.letGo(ex.responseFrame ?? ex.requestFrame);
  }

  /**
   * The owner opens no more exchanges and each of its own is complete (its connection ended): it goes to `drained`
   * after its last exchange has been released. `newest` is that exchange when the owner knows it (ImapSession.close):
   * the owner leaves with it, or at once if it has gone. Otherwise it leaves once every exchange opened so far has
   * gone. (At the end of the input every open connection ends with its command outstanding: behind every other one,
   * each ended connection's record would wait for the last to end.)
   */
  ended(owner: O, newest: Exchange | null = null, frame: number | null = null): void {
    if (newest !== null) {
      if (this.done.has(newest)) this.drainsAfter.set(newest, owner);
      else this.drained(owner); // complete and not waiting: released already
    } else if (this.head === this.queue.length) {
      this.drained(owner);
    } else {
      this.queue.push(ENDED, owner);
      this.endsWaiting++;
      // Connections that end having asked nothing (probes) wait behind an unfinished command too.
      if (this.overCap) this.letGo(frame);
    }
  }

  /** End of input: everything left goes out in order (the unfinished ones as incomplete), those let go first (they were heads). */
  flush(): void {
    for (const [ex, owner] of this.late) this.emit(ex, owner);
    for (let i = this.head; i < this.queue.length; i += 2) this.emit(this.queue[i] as Exchange, this.queue[i + 1] as O);
    this.queue = [];
    this.head = 0;
    this.done.clear();
    this.waitingBytes = 0;
    this.endsWaiting = 0;
    this.late.clear();
    this.drainsAfter.clear();
  }

  private drain(): void {
    while (this.head < this.queue.length) {
      const ex = this.queue[this.head] as Exchange;
      if (ex !== ENDED) {
        const weight = this.done.get(ex);
        if (weight === undefined) break;
        this.done.delete(ex);
        this.waitingBytes -= weight;
      } else {
        this.endsWaiting--;
      }
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

  /** More waits behind the head than MAX_WAITING allows (complete exchanges and ended owners, by count; their texts, by weight). */
  private get overCap(): boolean {
    return this.done.size + this.endsWaiting > MAX_WAITING || this.waitingBytes > MAX_WAITING_BYTES;
  }

  /**
   * Too much waits behind the head, which is unfinished (drain() stopped at it): it leaves the order, to go out when it
   * completes, and the queue drains past it; again while too much waits behind the next unfinished one. So one long IDLE
   * costs the order of that IDLE alone, and memory stays within MAX_WAITING whatever the capture's length. (Before, every
   * complete exchange was let out each time 100,000 waited, and the IDLE kept holding back the next ones.)
   */
  private letGo(frame: number | null): void {
    // The queue holds every exchange in `done` and every mark: while it is too full, its head is an unfinished one.
    while (this.head < this.queue.length && this.overCap) {
      const ex = this.queue[this.head] as Exchange;
      const owner = this.queue[this.head + 1] as O;
      this.onLetGo(ex, frame);
      this.late.set(ex, owner);
      this.queue[this.head] = this.queue[this.head + 1] = RELEASED;
      this.head += 2;
      this.drain();
    }
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
