import type { WarningSink } from '../capture/types.js';
import { Fifo } from '../util/fifo.js';

/** A stream that can hold out-of-order bytes behind a hole (HalfStream). */
export interface HoleHolder {
  /** Out-of-order bytes it holds now. */
  readonly holding: number;
  /** It is in the cap's queue (a flag it keeps for it). */
  queuedForHeld: boolean;
  /** Give up the hole before its first held segment as a gap, and deliver what then continues the stream. */
  giveUpOldestHole(): void;
}

/** Holders that stopped holding while queued, more than hold now, before the queue is compacted. */
const COMPACT_AFTER = 1024;

/**
 * Out-of-order bytes held by all the streams of a capture, and a cap on them. Each direction holds at most
 * maxHeldBytes, but nothing bounded their sum: a capture of one direction only (a tap, asymmetric routing) that missed
 * a segment of each of many connections at once held everything after each hole until the connection ended, for the
 * peer's ACKs that would prove the hole were not captured (200 connections one MiB each: 324 MiB). Past the cap the
 * stream that began holding first gives up its oldest hole as a gap; one that still holds goes to the back. The segments
 * are capped too: each costs a list entry and a buffer object beside its bytes, and a capture of one-byte segments
 * would hold millions of them under the byte cap.
 */
export class HeldBytes {
  private total = 0;
  /** Segments held by all the streams. */
  private segments = 0;
  /** Streams in the order they began holding; some may no longer hold (skipped, and dropped as they accumulate). */
  private readonly queue = new Fifo<HoleHolder>();
  /** Streams holding now. */
  private holders = 0;
  private warned = false;

  constructor(
    readonly cap: number,
    private readonly warn: WarningSink,
    /** Segments held by all the streams together, at most. */
    readonly maxSegments = Number.MAX_SAFE_INTEGER,
  ) {}

  get held(): number {
    return this.total;
  }

  /** Segments held now (for tests). */
  get heldSegments(): number {
    return this.segments;
  }

  /** `holder` holds one segment more, of `bytes`, from `frame`; `began`: it held nothing before. */
  more(holder: HoleHolder, bytes: number, began: boolean, frame: number): void {
    this.total += bytes;
    this.segments++;
    if (began) {
      this.holders++;
      if (!holder.queuedForHeld) {
        holder.queuedForHeld = true;
        this.queue.push(holder);
      }
    }
    if (this.over) this.relieve(frame);
  }

  /** A holder let one segment of `bytes` go (delivered or dropped); `ended`: it holds nothing now. */
  less(bytes: number, ended: boolean): void {
    this.total -= bytes;
    this.segments--;
    if (!ended) return;
    this.holders--;
    if (this.queue.length > 2 * this.holders + COMPACT_AFTER) this.queue.retain(stillHolding);
  }

  private get over(): boolean {
    return this.total > this.cap || this.segments > this.maxSegments;
  }

  private relieve(frame: number): void {
    if (!this.warned) {
      this.warned = true;
      const what = this.total > this.cap ? `${mebibytes(this.cap)} of out-of-order data` : `${this.maxSegments} out-of-order segments`;
      this.warn({
        frame,
        message: `more than ${what} held by all connections together (the cap): from here the one that began holding first gives up its oldest hole, reported as missing bytes`,
      });
    }
    while (this.over) {
      const holder = this.queue.shift();
      if (holder === undefined) break;
      holder.queuedForHeld = false;
      if (holder.holding === 0) continue;
      holder.giveUpOldestHole();
      if (holder.holding > 0 && !holder.queuedForHeld) {
        holder.queuedForHeld = true;
        this.queue.push(holder);
      }
    }
  }

  /** Streams the queue holds (for tests). */
  get queued(): number {
    return this.queue.length;
  }
}

/** A holder the queue keeps; one that no longer holds leaves it, and may be queued again when it holds again. */
function stillHolding(holder: HoleHolder): boolean {
  if (holder.holding > 0) return true;
  holder.queuedForHeld = false;
  return false;
}

/** A byte count as the warning names it: whole MiB when it is, bytes otherwise. */
function mebibytes(bytes: number): string {
  return bytes % 1048576 === 0 ? `${bytes / 1048576} MiB` : `${bytes} bytes`;
}
