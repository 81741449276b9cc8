/** Smallest ring: a short command or greeting fits, and growth by doubling reaches the window quickly. */
const MIN_RING = 16;

/** Spare rings a pool keeps at most, in bytes: a few hundred connections' worth of small rings, or 128 full windows. */
const MAX_POOLED_BYTES = 8 * 1024 * 1024;

/**
 * Spare ring buffers, by size (every ring is a power of two), shared by the connections of one capture.
 * Folder-sync traffic opens and closes thousands of connections, each growing its rings to tens of
 * kilobytes; allocating them afresh made megabytes of external memory that the garbage collector frees
 * late, so peak memory grew with the number of sessions. Rings of closed streams are handed back here.
 */
export class RingPool {
  private readonly spare = new Map<number, Buffer[]>();
  private pooledBytes = 0;

  take(size: number): Buffer {
    const list = this.spare.get(size);
    const ring = list?.pop();
    if (!ring) return Buffer.allocUnsafe(size);
    this.pooledBytes -= size;
    return ring;
  }

  give(ring: Buffer): void {
    if (this.pooledBytes + ring.length > MAX_POOLED_BYTES) return;
    let list = this.spare.get(ring.length);
    if (!list) this.spare.set(ring.length, (list = []));
    list.push(ring);
    this.pooledBytes += ring.length;
  }

  /** Bytes held as spares (for tests). */
  get pooled(): number {
    return this.pooledBytes;
  }
}

/**
 * The last few kilobytes delivered in one direction, so that a retransmission can be checked against
 * the first copy without keeping the stream. Older bytes are simply not checked.
 */
export class RecentBytes {
  /**
   * Allocated on first use at the size of what came, grown by doubling up to `size` as bytes arrive: a
   * connection that sent one short command holds a few dozen bytes, not the whole window.
   */
  private ring: Buffer | null = null;
  /** Total bytes pushed since the last reset; the ring holds the last min(total, size). */
  private total = 0;

  constructor(
    private readonly size: number,
    private readonly pool: RingPool,
  ) {}

  /** Bytes the ring can hold now (it grows up to the window). */
  get capacity(): number {
    return this.ring?.length ?? 0;
  }

  push(bytes: Buffer): void {
    const ring = this.room(this.total + bytes.length);
    const cap = ring.length;
    let src = bytes;
    if (src.length > cap) {
      this.total += src.length - cap;
      src = src.subarray(src.length - cap);
    }
    const at = this.total % cap;
    const first = Math.min(src.length, cap - at);
    src.copy(ring, at, 0, first);
    if (first < src.length) src.copy(ring, 0, first);
    this.total += src.length;
  }

  /** A ring big enough for `wanted` bytes (up to the window), keeping what it holds. */
  private room(wanted: number): Buffer {
    const ring = this.ring;
    if (ring && (ring.length >= wanted || ring.length === this.size)) return ring;
    let cap = ring ? ring.length : MIN_RING;
    while (cap < wanted && cap < this.size) cap *= 2;
    cap = Math.min(cap, this.size);
    const grown = this.pool.take(cap);
    // Until the ring first fills, its bytes sit from offset 0 in order: copy them to the same offsets.
    if (ring) {
      ring.copy(grown, 0, 0, Math.min(this.total, ring.length));
      this.pool.give(ring);
    }
    this.ring = grown;
    return grown;
  }

  /** The stream ended: its ring goes back to the pool, and nothing more may be pushed. */
  release(): void {
    if (this.ring) this.pool.give(this.ring);
    this.ring = null;
    this.total = 0;
  }

  /** After a gap the bytes before it no longer line up with sequence numbers. */
  reset(): void {
    this.total = 0;
  }

  /** Do `old`, which started `back` bytes before the end of what was pushed, disagree with what we kept? */
  differs(back: number, old: Buffer): boolean {
    const ring = this.ring;
    if (!ring) return false;
    const kept = Math.min(this.total, ring.length);
    for (let i = 0; i < old.length; i++) {
      const distance = back - i; // how far before the end this byte lies
      if (distance <= 0 || distance > kept) continue;
      if (ring[(this.total - distance) % ring.length] !== old[i]) return true;
    }
    return false;
  }
}
