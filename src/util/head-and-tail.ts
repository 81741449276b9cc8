/**
 * The first `head` and the last `tail` of a sequence given one item at a time, and how many fell between them: memory
 * for head + tail items however long the sequence runs. The tail is a ring until it is read.
 */
export class HeadAndTail<T> {
  private readonly first: T[] = [];
  private readonly last: T[] = [];
  /** Where the next item of the ring goes once it is full. */
  private next = 0;
  private dropped = 0;

  constructor(private readonly head: number, private readonly tail: number) {}

  push(item: T): void {
    if (this.first.length < this.head) this.first.push(item);
    else if (this.last.length < this.tail) this.last.push(item);
    else {
      this.dropped++;
      if (this.tail === 0) return;
      this.last[this.next] = item;
      this.next = (this.next + 1) % this.tail;
    }
  }

  /**
   * Count `n` items as left out here, as if pushed and dropped: only right where later pushes will fill the tail,
   * i.e. where `tail` or more items are still to come (Ladders rebuilds a ladder from pieces that each dropped some).
   */
  skip(n: number): void {
    this.dropped += n;
  }

  /** Items kept. */
  get size(): number {
    return this.first.length + this.last.length;
  }

  /** Items left out between the head and the tail. */
  get omitted(): number {
    return this.dropped;
  }

  /** How many of the items kept are the head (the omitted ones came after them). */
  get headLength(): number {
    return this.first.length;
  }

  /** The items kept, in the order they came. */
  items(): T[] {
    return [...this.first, ...this.last.slice(this.next), ...this.last.slice(0, this.next)];
  }
}
