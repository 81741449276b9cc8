/** Taken entries are cut off the front once there are more than this many, and they are most of the array. */
const CUT_AFTER = 1024;

/**
 * A first-in first-out queue on an array: taking from the front moves a head over it (Array.shift moves every entry),
 * and the part passed is cut off once it is most of the array.
 */
export class Fifo<T> {
  private items: T[];
  private head = 0;

  constructor(items: T[] = []) {
    this.items = items;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest entry, taken out; undefined when there is none. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T; // not kept alive by the passed part
    if (this.head > CUT_AFTER && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Keeps only the entries `keep` says, in their order. */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.slice(this.head).filter(keep);
    this.head = 0;
  }
}
