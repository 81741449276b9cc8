import type { WarningSink } from '../capture/types.js';
import { RecentBytes } from './recent-bytes.js';

/** Signed distance a − b in 32-bit sequence space: correct across wrap-around. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

interface Held {
  seq: number;
  data: Buffer;
  frame: number;
  /** Its disagreement with another copy was already reported: do not report it twice. */
  reported?: boolean;
}

/** Where a direction's ordered bytes go, and where it says bytes are missing. */
export interface HalfStreamOutput {
  deliver(bytes: Buffer, frame: number): void;
  gap(length: number, frame: number): void;
}

export interface HalfStreamLimits {
  /** Out-of-order bytes held per direction before the oldest hole is given up as a gap. */
  maxHeldBytes: number;
}

/**
 * One direction of a TCP connection: turns segments in capture order into bytes in sequence order,
 * each exactly once. Old data (retransmissions, overlaps) is dropped with the first copy winning;
 * data beyond a hole is held until the hole fills, or until the peer's ACK, a FIN, the hold cap or
 * the end of the capture proves the hole will never fill, which becomes an explicit gap.
 */
export class HalfStream {
  /** Next sequence number expected; null until the first segment (or SYN) of this direction. */
  next: number | null = null;
  /** The first sequence number seen, for telling a new connection on a reused 4-tuple. */
  base: number | null = null;
  finished = false;
  private fin: number | null = null;
  /** Highest sequence number the peer acknowledged (it received everything before it). */
  private acked: number | null = null;
  private held: Held[] = [];
  private heldBytes = 0;
  private capWarned = false;
  private afterFinWarned = false;
  private readonly recent = new RecentBytes(64 * 1024);

  constructor(
    private readonly out: HalfStreamOutput,
    private readonly warn: WarningSink,
    private readonly limits: HalfStreamLimits,
    private readonly label: string,
  ) {}

  syn(seq: number): void {
    if (this.base === null) this.base = seq;
    if (this.next === null) this.next = seqAdd(seq, 1);
  }

  /** A segment of this direction, in capture order. `missing` bytes followed the payload but were cut by the snaplen. */
  segment(seq: number, payload: Buffer, missing: number, fin: boolean, frame: number): void {
    if (this.base === null) this.base = seq;
    if (this.next === null) this.next = seq; // capture started mid-stream: begin where we are
    if (fin) this.fin = seqAdd(seq, payload.length + missing);
    if (payload.length + missing > 0) {
      if (missing > 0) {
        this.accept(seq, payload, frame);
        this.gapAt(seqAdd(seq, payload.length), missing, frame);
      } else {
        this.accept(seq, payload, frame);
      }
      this.resolveAckedHole(frame);
    }
    this.checkFinished();
  }

  /** The peer acknowledged `ack`: bytes before it exist even if the capture never saw them. */
  peerAck(ack: number, frame: number): void {
    if (this.next === null) return;
    if (this.acked === null || seqDiff(ack, this.acked) > 0) this.acked = ack;
    if (this.held.length > 0) this.resolveAckedHole(frame);
  }

  /** End of the connection or the capture: whatever is still missing will never come. */
  flush(frame: number): void {
    if (this.next === null) return;
    while (this.held.length > 0) this.fillHoleWithGap(this.held[0]!.seq, frame);
    // Bytes the peer acknowledged (or a FIN announced) but the capture never held.
    let end = this.acked;
    if (this.fin !== null && (end === null || seqDiff(this.fin, end) > 0)) end = this.fin;
    if (end !== null) {
      // A FIN takes one sequence number, which an ACK of the FIN covers: not data.
      const lastData = this.fin !== null && seqDiff(end, this.fin) > 0 ? this.fin : end;
      const missing = seqDiff(lastData, this.next);
      if (missing > 0) this.gapAt(this.next, missing, frame);
    }
  }

  private accept(seq: number, payload: Buffer, frame: number): void {
    const next = this.next!;
    const rel = seqDiff(seq, next);
    const len = payload.length;
    if (this.finished && rel + len > 0) {
      // Bytes past the FIN cannot belong to this stream (and would skip the FIN's sequence number).
      if (!this.afterFinWarned) this.warn({ frame, message: `${this.label}: data after the FIN ignored` });
      this.afterFinWarned = true;
      return;
    }
    if (rel + len <= 0) {
      // Entirely old: a retransmission or a keep-alive (one byte just below `next`, often garbage).
      if (!(len <= 1 && rel === -1)) this.compareOld(seq, payload, frame);
      return;
    }
    if (rel < 0) {
      this.compareOld(seq, payload.subarray(0, -rel), frame);
      this.emit(payload.subarray(-rel), frame);
      this.drainHeld(frame);
      return;
    }
    if (rel === 0) {
      this.emit(payload, frame);
      this.drainHeld(frame);
      return;
    }
    this.hold(seq, payload, frame);
  }

  private emit(bytes: Buffer, frame: number): void {
    this.next = seqAdd(this.next!, bytes.length);
    this.recent.push(bytes);
    this.out.deliver(bytes, frame);
  }

  private gapAt(seq: number, length: number, frame: number): void {
    // Only a gap that starts at `next` can be delivered now; later ones are handled as holes.
    if (seqDiff(seq, this.next!) !== 0) return;
    this.next = seqAdd(this.next!, length);
    this.recent.reset();
    this.out.gap(length, frame);
    this.trimHeld(frame);
    this.drainHeld(frame);
  }

  /** Data already delivered came again: it must say the same, or the capture has two stories. */
  private compareOld(seq: number, old: Buffer, frame: number): void {
    const back = seqDiff(this.next!, seq);
    const differs = this.recent.differs(back, old);
    if (differs) {
      this.warn({ frame, message: `${this.label}: retransmitted data differs from the first copy (${old.length} bytes at relative offset -${back}); the first copy is kept` });
    }
  }

  private hold(seq: number, payload: Buffer, frame: number): void {
    // Compare with any held data it overlaps; first copy wins, so only the new parts are kept.
    let idx = 0;
    while (idx < this.held.length && seqDiff(this.held[idx]!.seq, seq) <= 0) idx++; // after equal seqs: first copy drains first
    const entry: Held = { seq, data: Buffer.from(payload), frame };
    for (const h of this.held) {
      const offset = seqDiff(h.seq, seq);
      const start = Math.max(0, offset);
      const end = Math.min(payload.length, offset + h.data.length);
      if (end > start && !payload.subarray(start, end).equals(h.data.subarray(start - offset, end - offset))) {
        this.warn({ frame, message: `${this.label}: overlapping segment disagrees with held data (${end - start} bytes); the copy that continues the stream first is kept` });
        entry.reported = h.reported = true;
        break;
      }
    }
    this.held.splice(idx, 0, entry);
    this.heldBytes += payload.length;
    if (this.heldBytes > this.limits.maxHeldBytes) {
      if (!this.capWarned) {
        this.capWarned = true;
        this.warn({ frame, message: `${this.label}: more than ${this.limits.maxHeldBytes} out-of-order bytes held; giving up on the missing data before them (reported as a gap)` });
      }
      this.fillHoleWithGap(this.held[0]!.seq, frame);
    }
  }

  /** The peer has acknowledged past the hole before the held data: the hole will never be filled. */
  private resolveAckedHole(frame: number): void {
    if (this.held.length === 0 || this.acked === null) return;
    if (seqDiff(this.acked, this.next!) > 0) this.fillHoleWithGap(this.held[0]!.seq, frame);
  }

  private fillHoleWithGap(upTo: number, frame: number): void {
    const missing = seqDiff(upTo, this.next!);
    if (missing > 0) this.gapAt(this.next!, missing, frame);
    else this.drainHeld(frame);
  }

  /** Deliver held segments that now continue the stream; drop the parts already delivered. */
  private drainHeld(frame: number): void {
    while (this.held.length > 0) {
      const h = this.held[0]!;
      const rel = seqDiff(h.seq, this.next!);
      if (rel > 0) return;
      this.held.shift();
      this.heldBytes -= h.data.length;
      // Held data overlapped by bytes delivered since: it must agree with them (they were kept).
      if (rel < 0 && !h.reported && this.recent.differs(-rel, h.data.subarray(0, Math.min(-rel, h.data.length)))) {
        this.warn({ frame, message: `${this.label}: held out-of-order data disagrees with data delivered over the same range (${Math.min(-rel, h.data.length)} bytes); the delivered copy is kept` });
      }
      if (rel + h.data.length > 0) {
        this.next = seqAdd(this.next!, h.data.length + rel);
        const fresh = h.data.subarray(-rel);
        this.recent.push(fresh);
        this.out.deliver(fresh, Math.max(frame, h.frame));
      }
    }
  }

  /** After a gap moved `next` forward, held data that now lies wholly behind it is dropped. */
  private trimHeld(_frame: number): void {
    while (this.held.length > 0) {
      const h = this.held[0]!;
      if (seqDiff(seqAdd(h.seq, h.data.length), this.next!) > 0) return;
      this.held.shift();
      this.heldBytes -= h.data.length;
    }
  }

  private checkFinished(): void {
    if (this.fin !== null && this.next !== null && seqDiff(this.next, this.fin) >= 0 && !this.finished) {
      this.finished = true;
      // The FIN takes one sequence number. A FIN behind bytes already delivered must not move `next`
      // back, or a later retransmission would be delivered a second time.
      if (seqDiff(seqAdd(this.fin, 1), this.next) > 0) this.next = seqAdd(this.fin, 1);
    }
  }

  /** The connection is over: let go of every buffer (closed connections stay known, for their ids). */
  release(): void {
    this.held = [];
    this.heldBytes = 0;
    this.recent.release();
  }

  /** Out-of-order bytes currently held (for memory accounting and tests). */
  get holding(): number {
    return this.heldBytes;
  }
}
