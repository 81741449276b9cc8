/**
 * Puts transcript entries back in the order their first bytes crossed the wire. The session hands a
 * message over when it is complete, so a command with a synchronizing literal arrives after the "+" the
 * server sent in its middle. Entries wait in a small window and leave it ordered by first frame.
 */
export class StreamOrder<T> {
  private readonly waiting: { frame: number; seq: number; item: T }[] = [];
  private seq = 0;

  /** How many entries wait at most: a message spanning more than this many others may still come late. */
  constructor(private readonly emit: (item: T) => void, private readonly window = 256) {}

  add(frame: number, item: T): void {
    this.waiting.push({ frame, seq: this.seq++, item });
    if (this.waiting.length > this.window) this.release(this.waiting.length - this.window);
  }

  /** The end: everything left, in order. */
  flush(): void {
    this.release(this.waiting.length);
  }

  private release(count: number): void {
    this.waiting.sort((a, b) => a.frame - b.frame || a.seq - b.seq);
    for (const entry of this.waiting.splice(0, count)) this.emit(entry.item);
  }
}
