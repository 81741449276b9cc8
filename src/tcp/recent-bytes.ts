import { RingHold } from './ring-hold.js';

/** Smallest ring: a short command or greeting fits, and growth by doubling reaches the window quickly. */
const MIN_RING = 16;

/** Spare rings of their own buffer a pool keeps at most, in bytes: 128 full windows. */
const MAX_POOLED_BYTES = 8 * 1024 * 1024;

/**
 * Rings up to this size are cut from shared slabs. An idle connection's rings hold a line or two, and a
 * buffer object of their own (96 bytes of heap each, two per connection) would cost more than their bytes.
 */
const SLAB_RING_MAX = 1024;
const SLAB_BYTES = 64 * 1024;

/** Where a ring's bytes are: `buffer` from `base` on (a slab holds many rings; a large ring has its own). */
interface RingPlace {
  buffer: Buffer | null;
  base: number;
}

/**
 * Ring space for the streams of one capture; every ring is a power of two. Folder-sync traffic opens and
 * closes thousands of connections, each growing its rings to tens of kilobytes; allocating them afresh
 * made megabytes of external memory that the garbage collector frees late, so peak memory grew with the
 * number of sessions. Rings of closed streams are handed back here. Small rings are cut from slabs and
 * always come back to their size's spares (a slab cannot free a part of itself), so their space is what
 * the most connections open at once used; spare large rings are kept up to MAX_POOLED_BYTES.
 */
export class RingPool {
  /** Spare rings by size, as parallel lists of buffers and offsets (no object per spare). */
  private readonly spare = new Map<number, { buffers: Buffer[]; bases: number[] }>();
  private pooledBytes = 0;
  private slab: Buffer | null = null;
  private slabUsed = 0;
  /** Streams whose every byte was acknowledged, waiting out ACKNOWLEDGED_HOLD_SECONDS to give their rings back. */
  readonly hold = new RingHold();

  /** @param window the largest ring: bytes remembered per direction. */
  constructor(readonly window = 64 * 1024) {}

  /** Point `place` at a ring of `size` bytes. */
  take(size: number, place: RingPlace): void {
    const list = this.spare.get(size);
    if (list && list.buffers.length > 0) {
      place.buffer = list.buffers.pop()!;
      place.base = list.bases.pop()!;
      this.pooledBytes -= size;
      return;
    }
    if (size > SLAB_RING_MAX) {
      // Of its own: Buffer.allocUnsafe cuts one under 4 KiB from Node's shared 8 KiB pool slab, which it would then
      // keep alive whole for as long as the ring is held.
      place.buffer = Buffer.allocUnsafeSlow(size);
      place.base = 0;
      return;
    }
    if (!this.slab || this.slabUsed + size > SLAB_BYTES) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.slabUsed = 0;
    }
    place.buffer = this.slab;
    place.base = this.slabUsed;
    this.slabUsed += size;
  }

  /** The ring of `size` bytes at `base` in `buffer` is no longer used. */
  give(buffer: Buffer, base: number, size: number): void {
    if (size > SLAB_RING_MAX && this.pooledBytes + size > MAX_POOLED_BYTES) return;
    let list = this.spare.get(size);
    if (!list) this.spare.set(size, (list = { buffers: [], bases: [] }));
    list.buffers.push(buffer);
    list.bases.push(base);
    this.pooledBytes += size;
  }

  /** Bytes held as spares (for tests). */
  get pooled(): number {
    return this.pooledBytes;
  }
}

/**
 * The last few kilobytes delivered in one direction, so that a retransmission can be checked against
 * the first copy without keeping the stream. Older bytes are simply not checked. A HalfStream has one while it has a
 * ring: from its first byte until the ring goes back (an idle connection's directions have none).
 */
export class RecentBytes implements RingPlace {
  /**
   * The ring: `size` bytes of `buffer` from `base` on, taken on first use at the size of what came and
   * grown by doubling up to the pool's window as bytes arrive: a connection that sent one short command
   * holds a few dozen bytes, not the whole window.
   */
  buffer: Buffer | null = null;
  base = 0;
  private size = 0;
  /** Total bytes pushed since the last reset; the ring holds the last min(total, size). */
  private total = 0;

  /** Bytes the ring can hold now (it grows up to the window); none before the first byte. */
  get remembering(): number {
    return this.size;
  }

  /** Bytes just delivered; the ring comes from (and grows through) `pool`, the capture's. */
  remember(bytes: Buffer, pool: RingPool): void {
    this.room(this.total + bytes.length, pool);
    const cap = this.size;
    const ring = this.buffer!;
    const base = this.base;
    let src = bytes;
    if (src.length > cap) {
      this.total += src.length - cap;
      src = src.subarray(src.length - cap);
    }
    const at = this.total % cap;
    const first = Math.min(src.length, cap - at);
    src.copy(ring, base + at, 0, first);
    if (first < src.length) src.copy(ring, base, first);
    this.total += src.length;
  }

  /** Make the ring big enough for `wanted` bytes (up to the window), keeping what it holds. */
  private room(wanted: number, pool: RingPool): void {
    const window = pool.window;
    if (this.buffer && (this.size >= wanted || this.size === window)) return;
    let cap = this.buffer ? this.size : MIN_RING;
    while (cap < wanted && cap < window) cap *= 2;
    cap = Math.min(cap, window);
    const old = this.buffer;
    const oldBase = this.base;
    const oldSize = this.size;
    pool.take(cap, this);
    this.size = cap;
    // Until the ring first fills, its bytes sit from its start in order: copy them to the same offsets.
    if (old) {
      old.copy(this.buffer!, this.base, oldBase, oldBase + Math.min(this.total, oldSize));
      pool.give(old, oldBase, oldSize);
    }
  }

  /**
   * The ring goes back to `pool` (null at the end of the input: nothing would take it again): the stream ended, or
   * everything it remembers was acknowledged. Bytes remembered later take a ring again.
   */
  release(pool: RingPool | null): void {
    if (this.buffer) pool?.give(this.buffer, this.base, this.size);
    this.buffer = null;
    this.size = 0;
    this.total = 0;
  }

  /** After a gap the bytes before it no longer line up with sequence numbers. */
  forgetRemembered(): void {
    this.total = 0;
  }

  /** Do `old`, which started `back` bytes before the end of what was pushed, disagree with what we kept? */
  differs(back: number, old: Buffer): boolean {
    const ring = this.buffer;
    if (!ring) return false;
    const cap = this.size;
    const base = this.base;
    const kept = Math.min(this.total, cap);
    for (let i = 0; i < old.length; i++) {
      const distance = back - i; // how far before the end this byte lies
      if (distance <= 0 || distance > kept) continue;
      if (ring[base + ((this.total - distance) % cap)] !== old[i]) return true;
    }
    return false;
  }
}
