import type { Exchange } from '../imap/model.js';

/**
 * Past this many complete exchanges waiting behind an unfinished one (a long IDLE), order gives way to
 * memory. Unfinished ones do not count: their sessions hold them anyway (many open connections).
 */
const MAX_WAITING = 100_000;

/**
 * Releases exchanges in the order their requests appeared in the capture, across all connections,
 * while they complete in any order. Commands open in frame order, so a FIFO suffices: the head leaves
 * once it is complete. Memory is what is in flight behind the oldest unfinished command.
 */
export class ExchangeOrderer {
  private queue: Exchange[] = [];
  private head = 0;
  private readonly done = new Set<Exchange>();
  private overflowed = false;

  constructor(private readonly release: (ex: Exchange) => void, private readonly onOverflow: () => void) {}

  opened(ex: Exchange): void {
    this.queue.push(ex);
  }

  completed(ex: Exchange): void {
    this.done.add(ex);
    this.drain();
    // Each forced release empties `done`, so the scan it makes is paid for by as many completions.
    if (this.done.size > MAX_WAITING) this.forceOut();
  }

  /** End of input: everything left goes out in order (the unfinished ones as incomplete). */
  flush(): void {
    for (let i = this.head; i < this.queue.length; i++) this.release(this.queue[i]!);
    this.queue = [];
    this.head = 0;
    this.done.clear();
  }

  private drain(): void {
    while (this.head < this.queue.length && this.done.has(this.queue[this.head]!)) {
      const ex = this.queue[this.head++]!;
      this.done.delete(ex);
      this.release(ex);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private forceOut(): void {
    if (!this.overflowed) {
      this.overflowed = true;
      this.onOverflow();
    }
    const keep: Exchange[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const ex = this.queue[i]!;
      if (this.done.has(ex)) {
        this.done.delete(ex);
        this.release(ex);
      } else {
        keep.push(ex);
      }
    }
    this.queue = keep;
    this.head = 0;
  }
}
