/**
 * The last few kilobytes delivered in one direction, so that a retransmission can be checked against
 * the first copy without keeping the stream. Older bytes are simply not checked.
 */
export class RecentBytes {
  /** Allocated on first use and dropped by release(): idle and closed connections hold nothing. */
  private ring: Buffer | null = null;
  /** Total bytes pushed since the last reset; the ring holds the last min(total, size). */
  private total = 0;

  constructor(private readonly size: number) {}

  release(): void {
    this.ring = null;
    this.total = 0;
  }

  push(bytes: Buffer): void {
    this.ring ??= Buffer.allocUnsafe(this.size);
    let src = bytes;
    if (src.length > this.size) {
      this.total += src.length - this.size;
      src = src.subarray(src.length - this.size);
    }
    const at = this.total % this.size;
    const first = Math.min(src.length, this.size - at);
    src.copy(this.ring, at, 0, first);
    if (first < src.length) src.copy(this.ring, 0, first);
    this.total += src.length;
  }

  /** After a gap the bytes before it no longer line up with sequence numbers. */
  reset(): void {
    this.total = 0;
  }

  /** Do `old`, which started `back` bytes before the end of what was pushed, disagree with what we kept? */
  differs(back: number, old: Buffer): boolean {
    const kept = Math.min(this.total, this.size);
    if (!this.ring) return false;
    for (let i = 0; i < old.length; i++) {
      const distance = back - i; // how far before the end this byte lies
      if (distance <= 0 || distance > kept) continue;
      if (this.ring[(this.total - distance) % this.size] !== old[i]) return true;
    }
    return false;
  }
}
