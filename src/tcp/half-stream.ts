import type { HeldBytes, HoleHolder } from './held-bytes.js';
import { RecentBytes, type RingPool } from './recent-bytes.js';
import type { RingHolder } from './ring-hold.js';
import type { DirectionStats, Side } from './types.js';

/** Signed distance a − b in 32-bit sequence space: correct across wrap-around. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * Sequence numbers are kept as signed 32-bit values (`| 0`): the same number modulo 2^32 as the wire's
 * unsigned one, but a small integer to V8, where an unsigned one above 2^31 is a heap number of its own
 * (allocated at every assignment, and held by every open connection).
 */
export function seqAdd(a: number, n: number): number {
  return (a + n) | 0;
}

/** Out-of-order segments in sequence order (equal ones in the order they came), and how many bytes they hold. */
interface Hold {
  segments: Held[];
  bytes: number;
  /** The longest segment held since the hold began: one that starts further back than this cannot reach a new one. */
  longest: number;
}

interface Held {
  seq: number;
  data: Buffer;
  frame: number;
  /** When it came (capture seconds). */
  at: number;
  /** Its disagreement with another copy was already reported: do not report it twice. */
  reported?: boolean;
}

/**
 * What few directions need, made when first needed: the FIN's place (at a connection's end), segments held past a
 * hole (reordering, loss) and the gaps reported. An idle in-order direction has none: four fields fewer in each of
 * the two HalfStreams of every open connection.
 */
class Irregular {
  fin: number | null = null;
  hold: Hold | null = null;
  gaps = 0;
  gapBytes = 0;
}

const FINISHED = 1;
const CAP_WARNED = 2;
const AFTER_FIN_WARNED = 4;
/** The server's direction (a flag, not a field: two per open connection). */
const SERVER_SIDE = 8;
const SECOND_FIN_WARNED = 16;
/** Every byte the ring holds was acknowledged by the peer. */
const SETTLED = 32;
/** In the pool's hold (RingHold): its ring goes back when its turn comes, if still SETTLED. */
const HOLDING = 64;
/** Bytes came while HOLDING: its turn came too early for them (it queues again, if they were acknowledged too). */
const MORE_SINCE_HELD = 128;
/** In the queue of the cap on out-of-order bytes held across the capture (HeldBytes). */
const QUEUED_FOR_HELD = 256;

/**
 * How long a hole waits for a retransmission when the capture holds none of the peer's ACKs: a sender retransmits after
 * its retransmission timeout, at least 1 s by RFC 6298 (200 ms in Linux), and once more after twice that.
 */
export const UNACKED_HOLE_SECONDS = 3;

export interface HalfStreamLimits {
  /** Out-of-order bytes held per direction before the oldest hole is given up as a gap. */
  maxHeldBytes: number;
  /** Out-of-order segments held per direction before the oldest hole is given up as a gap (default MAX_HELD_SEGMENTS). */
  maxHeldSegments?: number;
}

/**
 * Out-of-order segments one direction holds at most. The byte cap alone let tiny segments pile up: 4 MiB of one-byte
 * segments is four million of them, each a list entry to place and a copy to keep. A sender's window bounds what real
 * traffic holds: 4 MiB of full-size segments is 2,900 of them.
 */
export const MAX_HELD_SEGMENTS = 4096;

/**
 * The connection both directions belong to: where their ordered bytes go, where they say bytes are
 * missing, and who words their warnings. One object serves both halves, so an open connection costs
 * two small HalfStreams and no closures.
 */
export interface HalfStreamOwner {
  readonly limits: HalfStreamLimits;
  /** Where the retransmission-check rings of this capture's streams come from and go back to. */
  readonly rings: RingPool;
  /** The out-of-order bytes all the capture's streams hold, and their cap (none when absent). */
  readonly held?: HeldBytes;
  /** The connection's latest frame: a hole the cap gives up between its segments is given up there. */
  readonly lastFrame?: number;
  deliver(side: Side, bytes: Buffer, frame: number): void;
  gap(side: Side, length: number, frame: number): void;
  /** A direction gave its ring back at the end of the hold: everything it sent was acknowledged a while ago. */
  quiet?(): void;
  /** A problem in this direction; the owner names the connection and the direction. */
  warn(side: Side, frame: number, message: string): void;
}

/**
 * Both directions of a connection gone quiet, as the numbers their streams go on from: two HalfStreams of 80 bytes
 * become one object of 72. A quiet direction keeps no ring, holds nothing, waits for nothing and has no flag but its
 * side, so its place in the sequence, what its peer acknowledged and what it delivered are all it is
 * (HalfStream.quiet). The streams are made again at the connection's next segment or its end (HalfStream.woken):
 * 200,000 idle mail clients kept 400,000 streams.
 */
export class QuietStreams {
  constructor(
    /** Null for a direction without a stream (it never sent a segment). */
    readonly clientNext: number | null,
    readonly clientAcked: number | null,
    readonly clientDelivered: number,
    readonly serverNext: number | null,
    readonly serverAcked: number | null,
    readonly serverDelivered: number,
  ) {}
}

/**
 * One direction of a TCP connection: turns segments in capture order into bytes in sequence order,
 * each exactly once. Old data (retransmissions, overlaps) is dropped with the first copy winning;
 * data beyond a hole is held until the hole fills, or until the peer's ACK, a FIN, the hold cap or
 * the end of the capture proves the hole will never fill, which becomes an explicit gap.
 */
export class HalfStream implements RingHolder, HoleHolder {
  /** Next sequence number expected; null until the first segment (or SYN) of this direction. */
  next: number | null = null;
  /** FINISHED, CAP_WARNED, AFTER_FIN_WARNED, SERVER_SIDE, SECOND_FIN_WARNED, SETTLED, HOLDING, MORE_SINCE_HELD: one field. */
  private flags: number;
  /** Highest sequence number the peer acknowledged (it received everything before it). */
  private acked: number | null = null;
  /** Bytes delivered: the record's count for this direction (with the gaps, see Irregular). */
  private delivered = 0;
  /** The FIN's place, held segments and gap counts, once any of them is needed. */
  private irregular: Irregular | null = null;
  /**
   * The last bytes delivered, for checking retransmissions: made at the first byte, dropped when its ring goes back (a
   * quiet stream holds none, and its four fields would be carried by both directions of every idle connection).
   */
  private recent: RecentBytes | null = null;

  constructor(
    private readonly owner: HalfStreamOwner,
    side: Side,
  ) {
    this.flags = side === 'server' ? SERVER_SIDE : 0;
  }

  /** Bytes its ring can hold now: none before the first byte, and none once the ring went back. */
  get remembering(): number {
    return this.recent === null ? 0 : this.recent.remembering;
  }

  get side(): Side {
    return this.flags & SERVER_SIDE ? 'server' : 'client';
  }

  /** What it delivered and reported missing so far. */
  counts(): DirectionStats {
    const r = this.irregular;
    return { bytes: this.delivered, gaps: r === null ? 0 : r.gaps, gapBytes: r === null ? 0 : r.gapBytes };
  }

  /** Where the FIN is (its sequence number), once one came. */
  private get fin(): number | null {
    return this.irregular === null ? null : this.irregular.fin;
  }

  private set fin(at: number | null) {
    this.more.fin = at;
  }

  /** Out-of-order segments waiting for a hole to fill; none (null) on an in-order stream. */
  private get hold(): Hold | null {
    return this.irregular === null ? null : this.irregular.hold;
  }

  private set hold(hold: Hold | null) {
    if (hold !== null || this.irregular !== null) this.more.hold = hold;
  }

  private get more(): Irregular {
    return (this.irregular ??= new Irregular());
  }

  get queuedForHeld(): boolean {
    return (this.flags & QUEUED_FOR_HELD) !== 0;
  }

  set queuedForHeld(queued: boolean) {
    this.flags = queued ? this.flags | QUEUED_FOR_HELD : this.flags & ~QUEUED_FOR_HELD;
  }

  /**
   * Past the cap on bytes held across the capture: the hole before its first held segment becomes a gap, and what
   * continues the stream is delivered, at the connection's latest frame (another connection's segment made it).
   */
  giveUpOldestHole(): void {
    const first = this.hold?.segments[0];
    if (!first) return;
    this.fillHoleWithGap(first.seq, this.owner.lastFrame ?? first.frame);
  }

  /**
   * Both streams of a connection as numbers, if neither keeps more than its numbers (QuietStreams): no ring, no FIN
   * seen, nothing held, no gap counted, not waiting in the pool's hold or the cap's queue. Null otherwise, or when the
   * connection has no stream.
   */
  static quiet(client: HalfStream | null, server: HalfStream | null): QuietStreams | null {
    if ((client === null && server === null) || !restsAsNumbers(client) || !restsAsNumbers(server)) return null;
    return new QuietStreams(
      client?.next ?? null, client?.acked ?? null, client?.delivered ?? 0,
      server?.next ?? null, server?.acked ?? null, server?.delivered ?? 0,
    );
  }

  /** The stream of `side` of a connection whose streams were `quiet`, as it was, owned by `owner`; null if none. */
  static woken(owner: HalfStreamOwner, side: Side, quiet: QuietStreams): HalfStream | null {
    const client = side === 'client';
    const next = client ? quiet.clientNext : quiet.serverNext;
    if (next === null) return null;
    const stream = new HalfStream(owner, side);
    stream.next = next;
    stream.acked = client ? quiet.clientAcked : quiet.serverAcked;
    stream.delivered = client ? quiet.clientDelivered : quiet.serverDelivered;
    return stream;
  }

  /**
   * It keeps nothing but its numbers: no ring, no FIN, hold or gap, and no flag but its side (none is set without a
   * ring or those: not in the pool's hold or the cap's queue, nothing warned).
   */
  get restsAsNumbers(): boolean {
    return this.irregular === null && this.recent === null && this.next !== null && (this.flags & ~SERVER_SIDE) === 0;
  }

  /** Its FIN and every byte before it have been seen. */
  get finished(): boolean {
    return (this.flags & FINISHED) !== 0;
  }

  syn(seq: number): void {
    if (this.next === null) this.next = seqAdd(seq, 1);
  }

  /**
   * A segment of this direction, in capture order, at `at` (capture seconds). `missing` bytes followed the payload but
   * were cut by the snaplen.
   */
  segment(wireSeq: number, payload: Buffer, missing: number, fin: boolean, frame: number, at = 0): void {
    const seq = wireSeq | 0;
    if (this.next === null) this.next = seq; // capture started mid-stream: begin where we are
    if (fin) this.finAt(seqAdd(seq, payload.length + missing), frame);
    if (payload.length + missing > 0) {
      if (missing > 0) {
        this.accept(seq, payload, frame, at);
        this.gapAt(seqAdd(seq, payload.length), missing, frame);
      } else {
        this.accept(seq, payload, frame, at);
      }
      this.resolveAckedHole(frame);
    }
    if (this.hold !== null && this.acked === null) this.giveUpUnackedHoles(frame, at);
    this.checkFinished();
  }

  /**
   * The capture holds none of the peer's ACKs (it saw one direction only: a tap, asymmetric routing), so none will
   * prove a hole: one that a retransmission has not filled within UNACKED_HOLE_SECONDS never will be. Given up now,
   * rather than when the connection ends, what followed it is dissected close to when it came.
   */
  private giveUpUnackedHoles(frame: number, at: number): void {
    while (this.hold !== null && at - this.hold.segments[0]!.at >= UNACKED_HOLE_SECONDS) {
      this.fillHoleWithGap(this.hold.segments[0]!.seq, frame);
    }
  }

  /**
   * A FIN says where the stream ends. The first one stays, as the first copy of data does: a FIN at another sequence
   * number contradicts it (the bytes between them would be delivered as if the first FIN's sequence number were one).
   */
  private finAt(end: number, frame: number): void {
    if (this.fin === null) {
      this.fin = end;
      return;
    }
    if (end === this.fin || this.flags & SECOND_FIN_WARNED) return;
    this.flags |= SECOND_FIN_WARNED;
    this.owner.warn(this.side, frame, `a FIN at another sequence number than the first one (${seqDiff(end, this.fin)} bytes from it) is ignored`);
  }

  /**
   * The peer acknowledged `ack` at `at` (capture seconds): bytes before it exist even if the capture never saw them.
   * Once it acknowledged every byte delivered, the ring goes back to the pool when ACKNOWLEDGED_HOLD_SECONDS have
   * passed (RingHold): a retransmission is still checked while one can come, and a quiet connection holds no ring. A
   * small ring goes back too: kept, it would cost its RecentBytes besides its bytes, more than a spare-list entry.
   */
  peerAck(ack: number, frame: number, at: number): void {
    if (this.next === null) return;
    if (this.acked === null || seqDiff(ack, this.acked) > 0) this.acked = ack | 0;
    if (this.hold) this.resolveAckedHole(frame);
    else if (!(this.flags & SETTLED) && this.recent !== null && seqDiff(this.acked, this.next) >= 0) {
      this.flags |= SETTLED;
      if (!(this.flags & HOLDING)) {
        this.flags |= HOLDING;
        this.owner.rings.hold.add(this, at);
      }
    }
  }

  /** Its turn in the pool's hold came at `now`: the ring goes back, unless bytes came since it was queued. */
  holdPassed(now: number, early: boolean): void {
    const flags = this.flags;
    this.flags &= ~(HOLDING | MORE_SINCE_HELD);
    if (!(flags & SETTLED)) return; // not all acknowledged: it queues again once it is
    if (flags & MORE_SINCE_HELD && !early) {
      this.flags |= HOLDING;
      this.owner.rings.hold.add(this, now);
      return;
    }
    this.releaseRing(this.owner.rings);
    this.owner.quiet?.();
  }

  /** Bytes just delivered, or a gap: the ring is no longer all acknowledged. */
  private unsettled(): void {
    if (this.flags & HOLDING) this.flags |= MORE_SINCE_HELD;
    this.flags &= ~SETTLED;
  }

  /** Bytes just delivered are kept for checking retransmissions. */
  private keep(bytes: Buffer): void {
    (this.recent ??= new RecentBytes()).remember(bytes, this.owner.rings);
    this.unsettled();
  }

  /** Its ring goes back to `pool` (null at the end of the input: nothing would take it again); a later byte takes one again. */
  releaseRing(pool: RingPool | null): void {
    this.recent?.release(pool);
    this.recent = null;
    this.flags &= ~SETTLED;
  }

  /** Do `old` bytes, `back` bytes before the end of what was delivered, disagree with what the ring kept of them? */
  private differs(back: number, old: Buffer): boolean {
    return this.recent !== null && this.recent.differs(back, old);
  }

  /** The stream ended: its ring goes back to `pool` (null at the end of the input), and it leaves the hold. */
  end(pool: RingPool | null): void {
    this.releaseRing(pool);
    if (this.flags & HOLDING) {
      this.owner.rings.hold.forget(this);
      this.flags &= ~(HOLDING | MORE_SINCE_HELD);
    }
  }

  /** End of the connection or the capture: whatever is still missing will never come. */
  flush(frame: number): void {
    if (this.next === null) return;
    while (this.hold) this.fillHoleWithGap(this.hold.segments[0]!.seq, frame);
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

  private accept(seq: number, whole: Buffer, frame: number, at: number): void {
    const next = this.next!;
    const rel = seqDiff(seq, next);
    // Bytes past a known FIN cannot belong to this stream (and would skip the FIN's sequence number).
    const payload = this.beforeFin(seq, whole, frame);
    const len = payload.length;
    if (len === 0 && whole.length > 0) return;
    if ((this.flags & FINISHED) !== 0 && rel + len > 0) {
      this.afterFin(frame);
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
    this.holdSegment(seq, payload, frame, at);
  }

  /** The part of a segment before a known FIN (all of it when no FIN is known). */
  private beforeFin(seq: number, data: Buffer, frame: number): Buffer {
    if (this.fin === null) return data;
    const room = seqDiff(this.fin, seq);
    if (room >= data.length) return data;
    this.afterFin(frame);
    return data.subarray(0, Math.max(0, room));
  }

  private afterFin(frame: number): void {
    if (!(this.flags & AFTER_FIN_WARNED)) this.owner.warn(this.side, frame, 'data after the FIN ignored');
    this.flags |= AFTER_FIN_WARNED;
  }

  private emit(bytes: Buffer, frame: number): void {
    this.next = seqAdd(this.next!, bytes.length);
    this.keep(bytes);
    this.delivered += bytes.length;
    this.owner.deliver(this.side, bytes, frame);
  }

  private gapAt(seq: number, length: number, frame: number): void {
    // Only a gap that starts at `next` can be delivered now; later ones are handled as holes.
    if (seqDiff(seq, this.next!) !== 0) return;
    this.next = seqAdd(this.next!, length);
    this.recent?.forgetRemembered();
    this.unsettled();
    const more = this.more;
    more.gaps++;
    more.gapBytes += length;
    this.owner.gap(this.side, length, frame);
    this.trimHeld(frame);
    this.drainHeld(frame);
  }

  /** Data already delivered came again: it must say the same, or the capture has two stories. */
  private compareOld(seq: number, old: Buffer, frame: number): void {
    const back = seqDiff(this.next!, seq);
    if (this.differs(back, old)) {
      this.owner.warn(this.side, frame, `retransmitted data differs from the first copy (${old.length} bytes at relative offset -${back}); the first copy is kept`);
    }
  }

  private holdSegment(seq: number, payload: Buffer, frame: number, at: number): void {
    const began = this.hold === null;
    const hold = (this.hold ??= { segments: [], bytes: 0, longest: 0 });
    const held = hold.segments;
    const idx = placeAfterEqual(held, seq); // after equal seqs: first copy drains first
    const entry: Held = { seq, data: Buffer.from(payload), frame, at };
    this.checkOverlaps(hold, idx, entry, frame);
    if (idx === held.length) held.push(entry);
    else held.splice(idx, 0, entry);
    hold.bytes += payload.length;
    if (payload.length > hold.longest) hold.longest = payload.length;
    // The capture's cap may give up holes here, this stream's too (so its hold is read again below).
    this.owner.held?.more(this, payload.length, began, frame);
    const limits = this.owner.limits;
    const maxSegments = limits.maxHeldSegments ?? MAX_HELD_SEGMENTS;
    if (this.holding > limits.maxHeldBytes || (this.hold?.segments.length ?? 0) > maxSegments) {
      if (!(this.flags & CAP_WARNED)) {
        this.flags |= CAP_WARNED;
        const what = this.holding > limits.maxHeldBytes ? `${limits.maxHeldBytes} out-of-order bytes` : `${maxSegments} out-of-order segments`;
        this.owner.warn(this.side, frame, `more than ${what} held; giving up on the missing data before them (reported as a gap)`);
      }
      this.fillHoleWithGap(this.hold!.segments[0]!.seq, frame);
    }
  }

  /**
   * A segment about to be held at `idx` is compared with the held data it overlaps, in sequence order, up to the first
   * disagreement (reported once: the copy that continues the stream first is kept). Only neighbours are looked at:
   * held segments are in sequence order, and none is longer than hold.longest, so one that starts further back cannot
   * reach it (comparing with every held segment made a hold of many small segments quadratic).
   */
  private checkOverlaps(hold: Hold, idx: number, entry: Held, frame: number): void {
    const held = hold.segments;
    const seq = entry.seq;
    const payload = entry.data;
    let first = idx;
    while (first > 0 && seqDiff(seq, held[first - 1]!.seq) < hold.longest) first--;
    for (let i = first; i < held.length; i++) {
      const h = held[i]!;
      const offset = seqDiff(h.seq, seq);
      if (offset >= payload.length) break; // it starts past the new segment's end, and so do all after it
      const start = Math.max(0, offset);
      const end = Math.min(payload.length, offset + h.data.length);
      if (end > start && !payload.subarray(start, end).equals(h.data.subarray(start - offset, end - offset))) {
        this.owner.warn(this.side, frame, `overlapping segment disagrees with held data (${end - start} bytes); the copy that continues the stream first is kept`);
        entry.reported = h.reported = true;
        return;
      }
    }
  }

  /** The peer has acknowledged past the hole before the held data: the hole will never be filled. */
  private resolveAckedHole(frame: number): void {
    if (!this.hold || this.acked === null) return;
    if (seqDiff(this.acked, this.next!) > 0) this.fillHoleWithGap(this.hold.segments[0]!.seq, frame);
  }

  private fillHoleWithGap(upTo: number, frame: number): void {
    // A hole never reaches past a known FIN: what lies beyond it is not this stream's.
    if (this.fin !== null && seqDiff(upTo, this.fin) > 0) upTo = this.fin;
    const missing = seqDiff(upTo, this.next!);
    if (missing > 0) this.gapAt(this.next!, missing, frame);
    else this.drainHeld(frame);
  }

  /** Deliver held segments that now continue the stream; drop the parts already delivered. */
  private drainHeld(frame: number): void {
    while (this.hold) {
      const h = this.hold.segments[0]!;
      if (this.fin !== null && seqDiff(h.seq, this.fin) >= 0) {
        // Held before the FIN was known, and wholly past it.
        this.dropFirstHeld();
        this.afterFin(frame);
        continue;
      }
      const rel = seqDiff(h.seq, this.next!);
      if (rel > 0) return;
      this.dropFirstHeld();
      // Held data overlapped by bytes delivered since: it must agree with them (they were kept).
      if (rel < 0 && !h.reported && this.differs(-rel, h.data.subarray(0, Math.min(-rel, h.data.length)))) {
        this.owner.warn(this.side, frame, `held out-of-order data disagrees with data delivered over the same range (${Math.min(-rel, h.data.length)} bytes); the delivered copy is kept`);
      }
      const data = this.beforeFin(h.seq, h.data, frame);
      if (rel + data.length > 0) {
        this.next = seqAdd(this.next!, data.length + rel);
        const fresh = data.subarray(-rel);
        this.keep(fresh);
        this.delivered += fresh.length;
        this.owner.deliver(this.side, fresh, Math.max(frame, h.frame));
      }
    }
  }

  /** The oldest held segment leaves the hold; an empty hold is dropped. */
  private dropFirstHeld(): void {
    const hold = this.hold!;
    const bytes = hold.segments.shift()!.data.length;
    hold.bytes -= bytes;
    const ended = hold.segments.length === 0;
    if (ended) this.hold = null;
    this.owner.held?.less(bytes, ended);
  }

  /** After a gap moved `next` forward, held data that now lies wholly behind it is dropped. */
  private trimHeld(_frame: number): void {
    while (this.hold) {
      const h = this.hold.segments[0]!;
      if (seqDiff(seqAdd(h.seq, h.data.length), this.next!) > 0) return;
      this.dropFirstHeld();
    }
  }

  private checkFinished(): void {
    if (this.fin !== null && this.next !== null && seqDiff(this.next, this.fin) >= 0 && !(this.flags & FINISHED)) {
      this.flags |= FINISHED;
      // The FIN takes one sequence number. A FIN behind bytes already delivered must not move `next`
      // back, or a later retransmission would be delivered a second time.
      if (seqDiff(seqAdd(this.fin, 1), this.next) > 0) this.next = seqAdd(this.fin, 1);
    }
  }

  /** Out-of-order bytes currently held (for memory accounting and tests). */
  get holding(): number {
    return this.hold?.bytes ?? 0;
  }
}

/** A direction without a stream, or one whose numbers are all it keeps (see HalfStream.quiet). */
function restsAsNumbers(stream: HalfStream | null): boolean {
  return stream === null || stream.restsAsNumbers;
}

/** Where a segment at `seq` goes among held segments in sequence order: after every one that starts at or before it. */
export function placeAfterEqual(held: readonly { seq: number }[], seq: number): number {
  // Most holds grow at their end (segments after one lost keep coming in order): checked before searching.
  const n = held.length;
  if (n === 0 || seqDiff(held[n - 1]!.seq, seq) <= 0) return n;
  let lo = 0;
  let hi = n - 1; // held[hi] starts after seq
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqDiff(held[mid]!.seq, seq) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
