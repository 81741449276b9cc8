import type { Frame } from '../capture/types.js';
import { lastSeen } from './last-seen.js';
import type { Connection, LateChanges } from './types.js';

/** What a conversation leaves behind as it starts to linger in the index (TcpTracker). */
export interface Ended {
  id: number;
  keyA: number;
  keyB: number;
  firstSeqA: number | null;
  firstSeqB: number | null;
  /** Its IMAP connection's record, closed; null for a conversation that was not IMAP. */
  record: Connection | null;
  /** The sink takes the record's late changes (StreamSink.retired): its last frame and end are kept as numbers. */
  keepsLateChanges: boolean;
  /** The segment that ended it. */
  frame: Frame;
}

/** Flags of a lingering conversation. */
const SEQ_A = 1;
const SEQ_B = 2;
/** Its record's last frame and end are kept (Ended.keepsLateChanges). */
const LATE = 4;
/** It left the index before its turn (a new SYN took its 4-tuple): passed over when its turn comes. */
const GONE = 8;

/** Handles are positions modulo 2^30: small integers to the engine, which an index holds without a heap number each. */
const HANDLES = 2 ** 30;
/** The ring starts this small (a capture with few sessions, a fuzzing input, a test) and doubles as needed. */
const MIN_CAPACITY = 16;

/**
 * Ended conversations while they linger, oldest first (they leave in the order they ended), as columns in a ring:
 * about 90 bytes each, where a conversation object, its closed record and its place in a queue took 176–240 (and a
 * busy server has 32,768 lingering, MAX_LINGERING). A lingering conversation is known by its handle, which the
 * tracker's index holds in its place.
 */
export class LingeringConversations {
  /** The oldest's handle (its position modulo HANDLES), and how many linger from it on. */
  private head = 0;
  private count = 0;
  private mask = -1;
  private ids = new Float64Array(0);
  private keysA = new Float64Array(0);
  private keysB = new Float64Array(0);
  private seqsA = new Int32Array(0);
  private seqsB = new Int32Array(0);
  private flags = new Uint8Array(0);
  private lastFrames = new Float64Array(0);
  private endSecs = new Float64Array(0);
  private endNsecs = new Int32Array(0);
  private endDigits = new Uint8Array(0);
  /** When it ended: it leaves once both lingers have passed (TcpTracker.dropEnded). */
  private endedSecs = new Float64Array(0);
  private endedFrames = new Float64Array(0);
  /** The record, held weakly: whoever keeps it sees late segments move it; when nobody does, it is freed. */
  private records: (WeakRef<Connection> | null)[] = [];

  /** Lingering, those that left before their turn included. */
  get size(): number {
    return this.count;
  }

  /** It starts to linger; returns its handle. */
  add(e: Ended): number {
    if (this.count === this.ids.length) this.grow();
    const h = (this.head + this.count) % HANDLES;
    const i = h & this.mask;
    this.count++;
    this.ids[i] = e.id;
    this.keysA[i] = e.keyA;
    this.keysB[i] = e.keyB;
    this.seqsA[i] = e.firstSeqA ?? 0;
    this.seqsB[i] = e.firstSeqB ?? 0;
    const { frame, record } = e;
    this.flags[i] = (e.firstSeqA !== null ? SEQ_A : 0) | (e.firstSeqB !== null ? SEQ_B : 0) | (record && e.keepsLateChanges ? LATE : 0);
    if (record) {
      this.lastFrames[i] = record.lastFrame;
      this.endSecs[i] = record.end.sec;
      this.endNsecs[i] = record.end.nsec;
      this.endDigits[i] = record.end.digits;
    }
    this.endedSecs[i] = frame.tsSec;
    this.endedFrames[i] = frame.number;
    this.records[i] = record ? new WeakRef(record) : null;
    return h;
  }

  id(h: number): number {
    return this.ids[h & this.mask]!;
  }

  keyA(h: number): number {
    return this.keysA[h & this.mask]!;
  }

  keyB(h: number): number {
    return this.keysB[h & this.mask]!;
  }

  /** The first sequence number seen from side A (or B), or null if none was. */
  firstSeq(h: number, a: boolean): number | null {
    const i = h & this.mask;
    if (!(this.flags[i]! & (a ? SEQ_A : SEQ_B))) return null;
    return a ? this.seqsA[i]! : this.seqsB[i]!;
  }

  /** A segment of it came from side A (or B): its sequence number is that side's first, if none was seen. */
  noteFirstSeq(h: number, a: boolean, seq: number): void {
    const i = h & this.mask;
    const known = a ? SEQ_A : SEQ_B;
    if (this.flags[i]! & known) return;
    this.flags[i]! |= known;
    if (a) this.seqsA[i] = seq;
    else this.seqsB[i] = seq;
  }

  /** A late segment (the last ACK): its frame and time become the record's last, kept and in the record if it lives. */
  late(h: number, frame: Frame): void {
    const i = h & this.mask;
    if (this.flags[i]! & LATE) {
      this.lastFrames[i] = frame.number;
      this.endSecs[i] = frame.tsSec;
      this.endNsecs[i] = frame.tsNsec;
      this.endDigits[i] = frame.tsDigits;
    }
    const record = this.records[i]?.deref();
    if (record) lastSeen(record, frame);
  }

  /** What late segments changed in its record, when the sink takes that; null otherwise. */
  lateChanges(h: number): LateChanges | null {
    const i = h & this.mask;
    if (!(this.flags[i]! & LATE)) return null;
    return { id: this.ids[i]!, lastFrame: this.lastFrames[i]!, end: { sec: this.endSecs[i]!, nsec: this.endNsecs[i]!, digits: this.endDigits[i]! } };
  }

  /** It left the index before its turn: nothing of it is kept, and its turn passes it over. */
  leave(h: number): void {
    const i = h & this.mask;
    this.flags[i]! |= GONE;
    this.records[i] = null;
  }

  gone(h: number): boolean {
    return (this.flags[h & this.mask]! & GONE) !== 0;
  }

  /** The oldest's handle, or -1 when none lingers. */
  oldest(): number {
    return this.count > 0 ? this.head : -1;
  }

  /** The oldest one that is still indexed, if it ended more than `seconds` (either way) and `frames` before this frame; else -1. */
  oldestDue(frame: Frame, seconds: number, frames: number): number {
    for (; this.count > 0; this.shift()) {
      const i = this.head & this.mask;
      if (this.flags[i]! & GONE) continue;
      return Math.abs(frame.tsSec - this.endedSecs[i]!) > seconds && frame.number - this.endedFrames[i]! > frames ? this.head : -1;
    }
    return -1;
  }

  /** The oldest leaves the ring (after leave(), or after its time). */
  shift(): void {
    this.records[this.head & this.mask] = null;
    this.head = (this.head + 1) % HANDLES;
    this.count--;
  }

  /** Twice the room: each lingering one moves to its position under the new mask (handles stay as they are). */
  private grow(): void {
    const capacity = Math.max(MIN_CAPACITY, 2 * this.ids.length);
    const mask = capacity - 1;
    // Positions run from the oldest's handle on, modulo HANDLES (a multiple of every capacity).
    const end = this.head + this.count;
    const from = (p: number) => (p % HANDLES) & this.mask;
    const to = (p: number) => (p % HANDLES) & mask;
    const moved = <T extends Float64Array | Int32Array | Uint8Array>(column: T, make: (n: number) => T): T => {
      const next = make(capacity);
      for (let p = this.head; p < end; p++) next[to(p)] = column[from(p)]!;
      return next;
    };
    this.ids = moved(this.ids, (n) => new Float64Array(n));
    this.keysA = moved(this.keysA, (n) => new Float64Array(n));
    this.keysB = moved(this.keysB, (n) => new Float64Array(n));
    this.seqsA = moved(this.seqsA, (n) => new Int32Array(n));
    this.seqsB = moved(this.seqsB, (n) => new Int32Array(n));
    this.flags = moved(this.flags, (n) => new Uint8Array(n));
    this.lastFrames = moved(this.lastFrames, (n) => new Float64Array(n));
    this.endSecs = moved(this.endSecs, (n) => new Float64Array(n));
    this.endNsecs = moved(this.endNsecs, (n) => new Int32Array(n));
    this.endDigits = moved(this.endDigits, (n) => new Uint8Array(n));
    this.endedSecs = moved(this.endedSecs, (n) => new Float64Array(n));
    this.endedFrames = moved(this.endedFrames, (n) => new Float64Array(n));
    const records: (WeakRef<Connection> | null)[] = new Array<WeakRef<Connection> | null>(capacity).fill(null);
    for (let p = this.head; p < end; p++) records[to(p)] = this.records[from(p)]!;
    this.records = records;
    this.mask = mask;
  }
}
