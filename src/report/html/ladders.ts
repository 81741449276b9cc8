import { closeSync, openSync, readSync } from 'node:fs';
import { GatheredWriter } from '../../util/gathered-writer.js';
import { HeadAndTail } from '../../util/head-and-tail.js';
import type { ExchangeData, MarkerData } from './data.js';

/** What the page shows of one connection's exchanges and markers, taken when the connection is drained. */
export interface Ladder {
  /**
   * The first and the last `half` exchanges, in the order they came, as the pieces of a JSON array's text: spilled ones
   * are taken as they were written, not parsed and written again, nor joined (a row of 10,000 is 3 MB, a large object
   * only a full collection frees: 100 such connections drained at the end of a capture took the peak up by about
   * 35-50 MiB).
   */
  exchanges: string[];
  /** Exchanges left out between the head and the tail: how many, and after how many of the kept ones. */
  omitted: { after: number; count: number } | null;
  markers: MarkerData[];
}

/** Where held exchanges go once there are too many: a file (which must not exist yet) and how many may be held. */
export interface LadderSpool {
  path: string;
  budget: number;
}

/**
 * Where a connection's exchanges stand, in a slot of four numbers (SLOT_WIDTH): how many were pushed in all, and its
 * latest segment in the spool (offset -1: none) and how many it has. Each spill is a segment that names the one before it.
 */
const SEEN = 0;
const LAST_OFFSET = 1;
const LAST_LENGTH = 2;
const SEGMENTS = 3;
const SLOT_WIDTH = 4;

/**
 * A segment is `[offset,length,headLength,omitted,[exchanges]]`: the place of the connection's segment before it (-1
 * and 0: none), then what its HeadAndTail kept and how. This matches up to the array of exchanges.
 */
const SEGMENT_START = /^\[(-?\d+),(\d+),(\d+),(\d+),/;
/** A slot's numbers before its first exchange: none seen, no segment. */
const EMPTY_SLOT = [0, -1, 0, 0];
/** A connection's markers up to this many are kept in a list of their size (most have none, a TLS one one or two). */
const SHORT_MARKERS = 8;
/** Enough of a segment's start to hold the place of the one before it. */
const SEGMENT_HEAD_BYTES = 64;
/**
 * The spool is read in windows of at least this many bytes: connections drained in about the order their segments
 * were written (idle ones at the end of the capture, in the order they opened) cost one read per window, not each.
 */
const READ_WINDOW = 64 * 1024;

/**
 * The ladder rows of every connection not yet drained. A connection keeps its exchanges from its first until it is
 * drained, often its close: 200,000 idle mail clients kept two each (0.4 KiB apiece, 200 MiB), and one that synced
 * before idling kept up to 10,000. With a spool, once more than `budget` are held every connection's held ones are
 * written to the spool as a segment, and read back when the connection is drained: memory is then its slot's four
 * numbers (32 bytes outside the heap) and a map entry per open connection, whatever it did.
 */
export class Ladders {
  /**
   * Each connection's slot in `slots`, by its id, from its first exchange until it is drained; a drained one's slot is
   * given to the next. An object per connection holding the same cost 72 bytes, and 200,000 idle mail clients each
   * keep theirs to the end.
   */
  private readonly slotOf = new Map<number, number>();
  private slots = new Float64Array(SLOT_WIDTH * 64);
  private slotsUsed = 0;
  private readonly freeSlots: number[] = [];
  /**
   * The exchanges each connection was given since the last spill, by its id, in the order they were first given one:
   * what the next spill writes. A head of what is left of the first `half`, then a tail.
   */
  private readonly recent = new Map<number, HeadAndTail<ExchangeData>>();
  private readonly markers = new Map<number, MarkerData[]>();
  private heldCount = 0;
  private writer: GatheredWriter | null = null;
  private reader = -1;
  /** The bytes last read from the spool: how many, and where in it they start (the file only grows past them). */
  private window = Buffer.alloc(0);
  private windowLength = 0;
  private windowAt = 0;

  constructor(private readonly half: number, private readonly spool?: LadderSpool) {}

  /** Exchanges held in memory. */
  get held(): number {
    return this.heldCount;
  }

  /** Connections listed for the next spill. */
  get listed(): number {
    return this.recent.size;
  }

  /** Connections the slots' columns have room for. */
  get slotRoom(): number {
    return this.slots.length / SLOT_WIDTH;
  }

  /** Where the connection's numbers start in `slots`, given one if it has none. */
  private slot(id: number): number {
    let at = this.slotOf.get(id);
    if (at === undefined) {
      at = this.freeSlots.pop() ?? this.newSlot();
      this.slotOf.set(id, at);
      this.slots.set(EMPTY_SLOT, at);
    }
    return at;
  }

  private newSlot(): number {
    const at = SLOT_WIDTH * this.slotsUsed++;
    if (at === this.slots.length) {
      const grown = new Float64Array(2 * this.slots.length);
      grown.set(this.slots);
      this.slots = grown;
    }
    return at;
  }

  push(id: number, ex: ExchangeData): void {
    const at = this.slot(id);
    let recent = this.recent.get(id);
    if (!recent) {
      // What is left of the head goes first; the exchanges before were spilled in order.
      recent = new HeadAndTail(Math.max(0, this.half - this.slots[at + SEEN]!), this.half);
      this.recent.set(id, recent);
    }
    const before = recent.size;
    recent.push(ex);
    this.slots[at + SEEN]++;
    this.heldCount += recent.size - before;
    if (this.spool && this.heldCount > this.spool.budget) this.spill(this.spool.path);
  }

  marker(id: number, m: MarkerData): void {
    const list = this.markers.get(id);
    // Made to size while short: a push onto a new list reserves room for 17, and every TLS connection has one or two.
    if (list === undefined || list.length < SHORT_MARKERS) this.markers.set(id, list === undefined ? [m] : list.concat(m));
    else list.push(m);
  }

  /** The connection's ladder, and forget it. */
  take(id: number): Ladder {
    const markers = this.markers.get(id) ?? [];
    this.markers.delete(id);
    const at = this.slotOf.get(id);
    if (at === undefined) return { exchanges: ['[]'], omitted: null, markers };
    this.slotOf.delete(id);
    this.freeSlots.push(at);
    const recent = this.recent.get(id) ?? null;
    if (recent) {
      this.heldCount -= recent.size;
      this.recent.delete(id);
    }
    const slot = this.slots.subarray(at, at + SLOT_WIDTH);
    if (slot[SEGMENTS] === 0) return { ...ladderOf(recent ?? new HeadAndTail(0, 0)), markers };
    const places = this.places(slot);
    if (slot[SEEN]! <= 2 * this.half) {
      // Nothing was left out: the arrays' items in order.
      const pieces = ['['];
      for (const [offset, length] of places) {
        const text = this.read(offset, length);
        if (pieces.length > 1) pieces.push(',');
        pieces.push(text.slice(SEGMENT_START.exec(text)![0].length + 1, -2));
      }
      if (recent) pieces.push(',', JSON.stringify(recent.items()).slice(1, -1));
      pieces.push(']');
      return { exchanges: pieces, omitted: null, markers };
    }
    const kept = new HeadAndTail<ExchangeData>(this.half, this.half);
    // One segment at a time: a connection of 400,000 commands leaves one per spill, each up to `half` exchanges long.
    for (const [offset, length] of places) {
      const [, , headLength, omitted, items] = JSON.parse(this.read(offset, length)) as [number, number, number, number, ExchangeData[]];
      append(kept, items, headLength, omitted);
    }
    if (recent) append(kept, recent.items(), recent.headLength, recent.omitted);
    return { ...ladderOf(kept), markers };
  }

  /** Close the spool (the caller removes the file). */
  close(): void {
    this.writer?.close();
    this.writer = null;
    if (this.reader >= 0) closeSync(this.reader);
    this.reader = -1;
  }

  /** Every held exchange to the spool, one segment per connection. */
  private spill(path: string): void {
    if (!this.writer) {
      this.writer = new GatheredWriter(path);
      this.reader = openSync(path, 'r');
    }
    for (const [id, r] of this.recent) {
      const at = this.slotOf.get(id)!;
      const offset = this.writer.size;
      const length = this.writer.write(`[${this.slots[at + LAST_OFFSET]},${this.slots[at + LAST_LENGTH]},${r.headLength},${r.omitted},${JSON.stringify(r.items())}]`);
      this.slots[at + LAST_OFFSET] = offset;
      this.slots[at + LAST_LENGTH] = length;
      this.slots[at + SEGMENTS]++;
    }
    this.recent.clear();
    this.heldCount = 0;
  }

  /** The slot's segments, first to last: each names the one before it at its start. */
  private places(slot: Float64Array): [number, number][] {
    const places: [number, number][] = [[slot[LAST_OFFSET]!, slot[LAST_LENGTH]!]];
    for (let i = 1; i < slot[SEGMENTS]!; i++) {
      const [offset, length] = places[places.length - 1]!;
      const start = SEGMENT_START.exec(this.read(offset, Math.min(length, SEGMENT_HEAD_BYTES)));
      places.push([Number(start![1]), Number(start![2])]);
    }
    return places.reverse();
  }

  private read(offset: number, length: number): string {
    const start = offset - this.windowAt;
    if (start < 0 || start + length > this.windowLength) this.fill(offset, length);
    return this.window.toString('utf8', offset - this.windowAt, offset - this.windowAt + length);
  }

  /** Read the spool from `offset`: this many bytes at least, a window's worth if the file has them. */
  private fill(offset: number, length: number): void {
    this.writer!.flush();
    const size = Math.max(length, READ_WINDOW);
    if (this.window.length < size) this.window = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < length) {
      const n = readSync(this.reader, this.window, got, size - got, offset + got);
      if (n === 0) throw new Error(`${this.spool!.path}: ends before ${offset + length}`);
      got += n;
    }
    this.windowLength = got;
    this.windowAt = offset;
  }
}

function ladderOf(kept: HeadAndTail<ExchangeData>): Omit<Ladder, 'markers'> {
  return { exchanges: [JSON.stringify(kept.items())], omitted: kept.omitted === 0 ? null : { after: kept.headLength, count: kept.omitted } };
}

/** Add a segment's exchanges to the ladder being rebuilt: its head, those it left out, then its tail. */
function append(ladder: HeadAndTail<ExchangeData>, items: ExchangeData[], headLength: number, omitted: number): void {
  for (let i = 0; i < headLength; i++) ladder.push(items[i]!);
  ladder.skip(omitted);
  for (let i = headLength; i < items.length; i++) ladder.push(items[i]!);
}
