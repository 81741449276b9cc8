import type { WarningSink } from '../capture/types.js';
import { addressText } from '../decode/address.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type AddressKey, type Segment } from '../decode/types.js';
import { HalfStream, seqAdd, type HalfStreamLimits, type HalfStreamOwner, type QuietStreams } from './half-stream.js';
import { HeldBytes } from './held-bytes.js';
import { lastSeen, timeOf } from './last-seen.js';
import { LingeringConversations } from './lingering.js';
import { LetGoWarnings, openConversationCap, OpenConversations } from './open-conversations.js';
import { RingPool } from './recent-bytes.js';
import type { Connection, DirectionStats, Endpoint, EndState, Side, StreamSink } from './types.js';

export interface TrackerOptions {
  /** Server ports: a connection with either end on one of them is IMAP. */
  ports: ReadonlySet<number>;
  /** Out-of-order bytes held per direction (see HalfStream). */
  maxHeldBytes: number;
  /** Out-of-order bytes held by all directions together (default DEFAULT_MAX_HELD_TOTAL; see HeldBytes). */
  maxHeldTotal?: number;
  /** Out-of-order segments held per direction (default MAX_HELD_SEGMENTS; see HalfStream). */
  maxHeldSegments?: number;
  /** Out-of-order segments held by all directions together (default DEFAULT_MAX_HELD_SEGMENTS_TOTAL; see HeldBytes). */
  maxHeldSegmentsTotal?: number;
  /** Where the streams' retransmission-check rings come from and go back to (default: a pool of this tracker's own). */
  rings?: RingPool;
  /** Ended conversations kept in the index at most (default MAX_LINGERING; tests use a small one). */
  maxLingering?: number;
  /** Conversations open at once, at most (default: from the heap limit, openConversationCap). */
  maxOpen?: number;
}

export const DEFAULT_PORTS: readonly number[] = [143, 993];

/** What the capture held at the TCP level, IMAP or not: tells a wrong --port from a capture without IMAP. */
export interface TcpOverview {
  conversations: number;
  /** Server ports by how many conversations used them, most first (at most 5). */
  topServerPorts: { port: number; conversations: number }[];
}
export const DEFAULT_MAX_HELD_BYTES = 4 * 1024 * 1024;
/** Out-of-order bytes held by all the streams of a capture together, at most (64 directions at their own cap). */
export const DEFAULT_MAX_HELD_TOTAL = 256 * 1024 * 1024;
/**
 * Out-of-order segments held by all the streams of a capture together, at most (64 directions at their own cap): with
 * the buffer object and the list entry each costs, about 40 MiB. Full-size segments reach the byte cap first.
 */
export const DEFAULT_MAX_HELD_SEGMENTS_TOTAL = 262_144;
/** Server endpoints whose record connections share (a capture has few servers; a hostile one may not). */
const SHARED_SERVER_ENDPOINTS = 4096;
/** Address texts kept for sharing between records (see TcpTracker.texts). */
const SHARED_ADDRESS_TEXTS = 1024;

/**
 * How long an ended conversation stays in the index, in capture time and in frames (both must pass): long enough
 * for its last ACKs and retransmitted FINs (TIME_WAIT lasts 60 s on Linux, 2 MSL = 240 s by RFC 793), so that
 * they keep its id as Wireshark's tcp.stream does. Then it leaves, so that the index holds the conversations
 * open or recently ended, not every one of the capture. The frame count keeps one frame stamped years
 * ahead from ending everything at once.
 */
export const ENDED_LINGER_SECONDS = 300;
export const ENDED_LINGER_FRAMES = 10_000;
/**
 * Ended conversations lingering at once, at most: past it the oldest leaves the index early (with a warning). A
 * lingering one costs about 0.25 KiB (LingeringConversations), and the 5 minutes hold a busy server's every session:
 * 300,000 sessions at 1,000 a second took `summary` to 287 MiB (docs/benchmarks.md, twenty-fifth round). At the cap
 * each still lingers 30 s at that rate, long after its last ACK; a session every 10 ms (30,000 in 5 minutes) never
 * reaches it.
 */
export const MAX_LINGERING = 32_768;
/** Address ids are swept once there are at least this many (and twice as many as the last sweep left). */
export const MIN_ADDRESS_SWEEP = 1024;
/**
 * Address ids whose endpoint numbers are small integers (id · 65536 + port < 2^31), which the engine keeps without a
 * heap number. Past them an IPv4 address needs no id: see TcpTracker.endpointKey.
 */
export const SMALL_ADDRESS_IDS = 32_768;

/** Conversation.ends: what ended it (a FIN from each side, or a RST). */
const FIN_FROM_A = 1;
const FIN_FROM_B = 2;
const RESET = 4;
/** Conversation.ends too: its IMAP connection closed (it is not started again). */
const CLOSED = 8;
/** Conversation.ends too: the client sent the conversation's first segment (segments are told apart by endpoint number). */
const CLIENT_IS_A = 16;
/** Conversation.ends too: it took a segment since the clock of the cap on open conversations last passed it. */
const SEEN = 32;
/** Conversation.ends too: it is no longer open (it ended, or was let go at the cap). */
const LEFT_OPEN = 64;
/**
 * Conversation.ends too: the client (the server) sent a bare SYN — no ACK, FIN, RST or data — and nothing else yet. The
 * direction's stream is made when more comes from it, or when the peer acknowledges it: a SYN flood's SYNs never get
 * one. All a bare SYN tells the stream is where its bytes begin, which the conversation's first sequence number keeps.
 */
const BARE_SYN_FROM_CLIENT = 128;
const BARE_SYN_FROM_SERVER = 256;
/** Conversation.ends too: its streams are kept as numbers (QuietStreams) until its next segment or end. */
const QUIET = 512;

function bareSyn(fromClient: boolean): number {
  return fromClient ? BARE_SYN_FROM_CLIENT : BARE_SYN_FROM_SERVER;
}

/** What every conversation of one tracker shares: one object, not a copy per connection. */
interface TrackerContext<S> {
  readonly sink: StreamSink<S>;
  /** The sink takes a closed record's late changes (StreamSink.retired): a lingering conversation keeps them. */
  readonly keepsLateChanges: boolean;
  readonly warn: WarningSink;
  readonly limits: HalfStreamLimits;
  readonly rings: RingPool;
  readonly held: HeldBytes;
}

/** A direction's counts while nothing is counted: an open record's, and a closed one's for a direction that sent nothing. */
const NOTHING_COUNTED: DirectionStats = Object.freeze({ bytes: 0, gaps: 0, gapBytes: 0 });

/**
 * A record's byte and gap counts while its connection is open: its HalfStreams count them, and they are written into
 * the record at the close (every report reads a record once it closed). One frozen object shared by every open record,
 * not three per connection.
 */
const COUNTED_AT_CLOSE: Record<Side, DirectionStats> = Object.freeze({ client: NOTHING_COUNTED, server: NOTHING_COUNTED });

/**
 * Every TCP conversation gets an id, as Wireshark's tcp.stream does. One on an IMAP port is reassembled while it is
 * open: the conversation owns a HalfStream per direction and hands their bytes to the sink with the connection's
 * record and counts. One object per connection, not a conversation and a reassembler: every open connection carries
 * them. Data and gaps are stamped with the record's end: the time of the segment being processed.
 */
class Conversation<S> implements HalfStreamOwner {
  /**
   * The IMAP connection from its first segment to its close, and after it until the conversation starts to linger
   * (TcpTracker.linger takes the record); null otherwise.
   */
  conn: Connection | null = null;
  /** What the sink's open() returned for it. */
  state: S | undefined = undefined;
  /**
   * Each direction's stream from the direction's first segment while the IMAP connection is open (dropped at its
   * close). A direction that sent nothing has none: a stream that never had a segment does nothing (an ACK for it, a
   * flush, an end), and a SYN flood's server side never sends one. After a bare SYN, from the direction's next segment
   * or the peer's ACK of the SYN (BARE_SYN_FROM_CLIENT): a SYN flood's client side has none either. While the
   * connection is QUIET, `client` holds both directions' numbers instead and `server` is null (one object, not two).
   */
  private client: HalfStream | QuietStreams | null = null;
  private server: HalfStream | null = null;
  /** Each side's first sequence number (port reuse). */
  firstSeqA: number | null = null;
  firstSeqB: number | null = null;
  /** FIN_FROM_A, FIN_FROM_B, RESET (non-IMAP conversations: when they end), CLOSED, CLIENT_IS_A. */
  ends = 0;

  /** `keyA`, `keyB`: endpoint keys of the side that sent the first segment seen ("A") and of the other ("B"). */
  constructor(private readonly context: TrackerContext<S>, readonly id: number, readonly keyA: number, readonly keyB: number) {}

  /** Start reassembling it as an IMAP connection. */
  reassemble(conn: Connection, clientIsA: boolean): void {
    this.conn = conn;
    if (clientIsA) this.ends |= CLIENT_IS_A;
    this.state = this.context.sink.open(conn);
  }

  /** Its IMAP connection is open. */
  get reassembling(): boolean {
    return this.conn !== null && (this.ends & CLOSED) === 0;
  }

  /** The stream of the direction a segment came from, made at the direction's first segment (after a bare SYN, at the next). */
  half(fromClient: boolean): HalfStream {
    const made = this.made(fromClient);
    if (made !== null) return made;
    const half = new HalfStream(this, fromClient ? 'client' : 'server');
    if (fromClient) this.client = half;
    else this.server = half;
    if (this.ends & bareSyn(fromClient)) half.syn(this.firstSeq(fromClient)!);
    return half;
  }

  /** The stream of the direction, if it has one or has sent its SYN (which the peer's ACK acknowledges). */
  streamToAck(fromClient: boolean): HalfStream | null {
    const made = this.made(fromClient);
    return made !== null || !(this.ends & bareSyn(fromClient)) ? made : this.half(fromClient);
  }

  /**
   * A segment of a direction that has no stream yet: if it is a bare SYN, it is noted instead of making one (true).
   * Repeated, it says the same (a SYN with another sequence number starts another conversation).
   */
  notedBareSyn(seg: Segment, fromClient: boolean): boolean {
    if (this.made(fromClient) !== null) return false;
    if ((seg.flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) !== TCP_SYN || seg.payload.length + seg.missingPayload > 0) return false;
    this.ends |= bareSyn(fromClient);
    return true;
  }

  private made(fromClient: boolean): HalfStream | null {
    if (this.ends & QUIET) this.wake();
    return fromClient ? (this.client as HalfStream | null) : this.server;
  }

  /** Both directions sent their FIN and every byte before it. */
  get finished(): boolean {
    return this.made(true)?.finished === true && this.made(false)?.finished === true;
  }

  /** Its next segment or its end came to a quiet connection: its streams go on from their numbers. */
  private wake(): void {
    const quiet = this.client as QuietStreams;
    this.ends &= ~QUIET;
    this.client = HalfStream.woken(this, 'client', quiet);
    this.server = HalfStream.woken(this, 'server', quiet);
  }

  private firstSeq(fromClient: boolean): number | null {
    return fromClient === this.clientIsA ? this.firstSeqA : this.firstSeqB;
  }

  get clientIsA(): boolean {
    return (this.ends & CLIENT_IS_A) !== 0;
  }

  get isOpen(): boolean {
    return (this.ends & LEFT_OPEN) === 0;
  }

  passed(): boolean {
    const seen = (this.ends & SEEN) !== 0;
    this.ends &= ~SEEN;
    return seen;
  }

  get limits(): HalfStreamLimits {
    return this.context.limits;
  }

  get rings(): RingPool {
    return this.context.rings;
  }

  get held(): HeldBytes {
    return this.context.held;
  }

  get lastFrame(): number | undefined {
    return this.conn?.lastFrame;
  }

  deliver(side: Side, bytes: Buffer, frame: number): void {
    const conn = this.conn!;
    const state = this.context.sink.data(conn, side, bytes, frame, conn.end, this.state as S);
    if (state !== undefined) this.state = state;
  }

  gap(side: Side, length: number, frame: number): void {
    const conn = this.conn!;
    this.warn(side, frame, `${length} bytes missing from the capture (lost or cut); the stream continues after them`);
    const state = this.context.sink.gap(conn, side, length, frame, conn.end, this.state as S);
    if (state !== undefined) this.state = state;
  }

  /**
   * A direction went quiet while the connection is open: the sink may put its state at rest (StreamSink.rest), and once
   * neither direction keeps more than its numbers, the streams are kept as those (QuietStreams).
   */
  quiet(): void {
    const sink = this.context.sink;
    if (!this.reassembling) return;
    if (sink.rest !== undefined) {
      const state = sink.rest(this.conn!, this.state as S);
      if (state !== undefined) this.state = state;
    }
    this.fold();
  }

  /** Both streams as numbers (QuietStreams), if neither keeps more than those. */
  private fold(): void {
    const numbers = this.ends & QUIET ? null : HalfStream.quiet(this.client as HalfStream | null, this.server);
    if (numbers === null) return;
    this.client = numbers;
    this.server = null;
    this.ends |= QUIET;
  }

  /**
   * A segment came to a quiet connection and woke its streams. If it left them as they were, numbers and nothing more
   * (a keep-alive, a bare ACK: no bytes to remember), they are folded again at once: they would otherwise stay awake,
   * holding no ring to give back, until more bytes came.
   */
  stillQuiet(): void {
    if (this.reassembling) this.fold();
  }

  /** Its streams are kept as numbers. */
  get isQuiet(): boolean {
    return (this.ends & QUIET) !== 0;
  }

  warn(side: Side, frame: number, message: string): void {
    this.context.warn({ frame, message: `connection ${this.id} ${side === 'client' ? 'client→server' : 'server→client'}: ${message}`, conn: this.id });
  }

  /**
   * The connection ends: what is missing becomes gaps, the record gets its counts and state, the sink closes it.
   * `pool` takes the streams' rings back (null at the end of the input). When the conversation `lingers` in the index,
   * late segments still move the record: it keeps the record until it starts to linger (TcpTracker.linger). Otherwise
   * it keeps nothing, and the record is final: it is returned.
   */
  finish(reason: EndState | 'end-of-capture', frame: number, pool: RingPool | null, lingers: boolean): Connection | null {
    const conn = this.conn;
    if (!this.reassembling || !conn) return null;
    const client = this.made(true);
    const server = this.made(false);
    client?.flush(frame);
    server?.flush(frame);
    client?.end(pool);
    server?.end(pool);
    this.client = null;
    this.server = null;
    conn.stats = { client: client?.counts() ?? NOTHING_COUNTED, server: server?.counts() ?? NOTHING_COUNTED };
    if (reason !== 'end-of-capture') conn.state = reason;
    const state = this.state as S;
    this.ends |= CLOSED;
    if (!lingers) this.conn = null;
    this.state = undefined;
    this.context.sink.close(conn, reason, state);
    return lingers ? null : conn;
  }
}

/**
 * A conversation index entry for the endpoint that sent a conversation's first segment ("A"): its only
 * such conversation (most endpoints, e.g. a client's port, have one peer, and a Map each would cost a few
 * hundred bytes), or its conversations by peer.
 */
type EndpointEntry<S> = Indexed<S> | Map<number, Indexed<S>>;

/** What the index holds for a conversation: itself while it lasts, its handle among the lingering once it ended. */
type Indexed<S> = Conversation<S> | number;

/**
 * Tracks TCP conversations in capture order and reassembles those on IMAP ports, handing ordered
 * bytes, gaps and the connection's life cycle to a StreamSink.
 */
export class TcpTracker<S = void> {
  /**
   * Conversations by their A endpoint, then by B. An endpoint is a small number (address id · 65536 +
   * port), so the per-packet lookup hashes numbers, not strings. Each conversation is indexed once, not
   * under both ends (every conversation stays indexed while it is open, and for a while after it ended: see
   * ENDED_LINGER_SECONDS): a segment from B is found by a second lookup under its destination.
   */
  private readonly conversations = new Map<number, EndpointEntry<S>>();
  /**
   * Address ids, which make the endpoint numbers. Ids are never reused, so an endpoint number never names two
   * endpoints; addresses no indexed conversation has are swept out now and then (sweepAddresses).
   */
  private readonly addressIds = new Map<AddressKey, number>();
  private nextAddressId = 0;
  private addressSweepAt = MIN_ADDRESS_SWEEP;
  private nextId = 0;
  /** Conversations per server port (at most 65,536 entries). */
  private readonly serverPorts = new Map<number, number>();
  /**
   * Server endpoints by port and address: every connection to a server shares one (records are kept to
   * the end of the capture). Up to SHARED_SERVER_ENDPOINTS of them; later servers get their own.
   */
  private readonly servers = new Map<string, Endpoint>();
  /**
   * Address texts made for connection records, so that the records of one client share one (a capture has few
   * clients; a server's capture may have many, and then the cache is emptied when full).
   */
  private readonly texts = new Map<AddressKey, string>();

  private readonly context: TrackerContext<S>;
  /** Ended conversations, in the order they ended, while they linger in the index (by their handles). */
  private readonly lingering = new LingeringConversations();
  private readonly maxLingering: number;
  private lingerCapWarned = false;
  /** Conversations open now (not ended), and which to let go past the cap. */
  private readonly open: OpenConversations<Conversation<S>>;
  private readonly letGoWarnings: LetGoWarnings;
  /** The input has ended: no connection will open again to take a ring back from the pool. */
  private inputEnded = false;

  constructor(
    private readonly sink: StreamSink<S>,
    warn: WarningSink,
    private readonly options: TrackerOptions,
  ) {
    const held = new HeldBytes(options.maxHeldTotal ?? DEFAULT_MAX_HELD_TOTAL, warn, options.maxHeldSegmentsTotal ?? DEFAULT_MAX_HELD_SEGMENTS_TOTAL);
    const limits = { maxHeldBytes: options.maxHeldBytes, maxHeldSegments: options.maxHeldSegments };
    this.context = { sink, keepsLateChanges: sink.retired !== undefined, warn, limits, rings: options.rings ?? new RingPool(), held };
    this.maxLingering = Math.max(1, options.maxLingering ?? MAX_LINGERING);
    const maxOpen = Math.max(1, options.maxOpen ?? openConversationCap());
    this.open = new OpenConversations(maxOpen);
    this.letGoWarnings = new LetGoWarnings(warn, maxOpen, options.maxOpen === undefined);
  }

  segment(seg: Segment): void {
    const from = this.endpointKey(seg.src, seg.srcPort);
    const to = this.endpointKey(seg.dst, seg.dstPort);
    let conv = this.lookup(from, to);
    if (conv !== undefined && (seg.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      // A new SYN with another initial sequence number is a new connection on a reused 4-tuple.
      const first = typeof conv === 'number' ? this.lingering.firstSeq(conv, from === this.lingering.keyA(conv))
        : from === conv.keyA ? conv.firstSeqA : conv.firstSeqB;
      if (first !== null && first !== (seg.seq | 0)) {
        if (typeof conv !== 'number') this.finish(conv, 'end-of-capture', seg.frame.number, false);
        this.forget(conv);
        conv = undefined;
      }
    }
    if (conv === undefined) {
      if (this.open.full) this.letGo(seg);
      conv = new Conversation(this.context, this.nextId++, from, to);
      this.remember(conv);
      this.open.opened(conv);
      const port = serverPortOf(seg);
      this.serverPorts.set(port, (this.serverPorts.get(port) ?? 0) + 1);
    } else if (typeof conv !== 'number') {
      conv.ends |= SEEN;
    }
    if (seg.quoted) return; // numbered like Wireshark does, but it carries nothing of the connection
    if (typeof conv === 'number') {
      // It ended and lingers: a late segment (the last ACK, a retransmitted FIN) moves its record's end.
      this.lingering.noteFirstSeq(conv, from === this.lingering.keyA(conv), seg.seq | 0);
      this.lingering.late(conv, seg.frame);
    } else {
      this.track(conv, seg, from === conv.keyA);
    }
    this.dropEnded(seg);
    this.context.rings.hold.due(seg.frame.tsSec);
    if (this.addressIds.size >= this.addressSweepAt) this.sweepAddresses();
  }

  /** A segment of a conversation that has not ended; `fromA`: its sender sent the conversation's first segment. */
  private track(conv: Conversation<S>, seg: Segment, fromA: boolean): void {
    if (!conv.conn && !(conv.ends & CLOSED) && (this.options.ports.has(seg.srcPort) || this.options.ports.has(seg.dstPort))) {
      this.startConnection(conv, seg, fromA);
    }
    // Signed, as HalfStream keeps them: a small integer, not a heap number (see seqAdd).
    if (fromA) conv.firstSeqA ??= seg.seq | 0;
    else conv.firstSeqB ??= seg.seq | 0;
    if (conv.reassembling) {
      this.advance(conv, seg, fromA === conv.clientIsA);
      if (!conv.reassembling) this.linger(conv, seg);
    } else if (seg.flags & (TCP_FIN | TCP_RST)) {
      conv.ends |= seg.flags & TCP_RST ? RESET : fromA ? FIN_FROM_A : FIN_FROM_B;
      if (conv.ends & RESET || (conv.ends & (FIN_FROM_A | FIN_FROM_B)) === (FIN_FROM_A | FIN_FROM_B)) this.linger(conv, seg);
    }
  }

  /**
   * The conversation ended at this segment: it lingers in the index, by its handle among the lingering (with its closed
   * record's last frame and end, which late segments move), and leaves once it has lingered (dropEnded).
   */
  private linger(conv: Conversation<S>, seg: Segment): void {
    if (this.lingering.size >= this.maxLingering) this.leaveEarly(seg);
    this.leftOpen(conv);
    const h = this.lingering.add({
      id: conv.id, keyA: conv.keyA, keyB: conv.keyB, firstSeqA: conv.firstSeqA, firstSeqB: conv.firstSeqB,
      record: conv.conn, keepsLateChanges: this.context.keepsLateChanges, frame: seg.frame,
    });
    conv.conn = null;
    const entry = this.conversations.get(conv.keyA);
    if (entry === conv) this.conversations.set(conv.keyA, h);
    else if (entry instanceof Map) entry.set(conv.keyB, h);
  }

  /** As many ended conversations linger as the cap allows: the oldest leaves the index now, as if it had lingered its time. */
  private leaveEarly(seg: Segment): void {
    if (!this.lingerCapWarned) {
      this.lingerCapWarned = true;
      this.context.warn({
        frame: seg.frame.number,
        message: `more than ${this.maxLingering} TCP conversations ended within ${ENDED_LINGER_SECONDS / 60} minutes (the cap on those kept for their late segments): the oldest leave early from here, and a segment of one that comes after would start a new conversation with a new id (Wireshark's tcp.stream keeps the old one)`,
      });
    }
    const oldest = this.lingering.oldest();
    if (!this.lingering.gone(oldest)) this.forget(oldest);
    this.lingering.shift();
  }

  /**
   * Conversations that ended long enough before this segment leave the index. A later segment of theirs would start a
   * new conversation. (Either way in time: a conversation ended by a frame stamped years ahead must not hold back all
   * behind it.)
   */
  private dropEnded(seg: Segment): void {
    for (let h = this.lingering.oldestDue(seg.frame, ENDED_LINGER_SECONDS, ENDED_LINGER_FRAMES); h >= 0;
      h = this.lingering.oldestDue(seg.frame, ENDED_LINGER_SECONDS, ENDED_LINGER_FRAMES)) {
      this.forget(h);
      this.lingering.shift();
    }
  }

  /**
   * More conversations are open than the cap allows (the heap would run out: a SYN flood at a mail server opens
   * millions): one quiet for long is let go. An IMAP connection ends as at the end of the input; either leaves the index.
   */
  private letGo(seg: Segment): void {
    const quiet = this.open.quietest(() => this.openConversations(false));
    const lastFrame = quiet.conn?.lastFrame ?? null;
    if (quiet.reassembling) this.finish(quiet, 'end-of-capture', lastFrame!, false);
    this.forget(quiet);
    this.letGoWarnings.letGo(quiet.id, lastFrame, seg.frame.number);
  }

  /** It ended, or was let go: it no longer counts against the cap. */
  private leftOpen(conv: Conversation<S>): void {
    if (!conv.isOpen) return;
    conv.ends |= LEFT_OPEN;
    this.open.left();
  }

  /** Out-of-order bytes all streams hold now (for tests). */
  get heldBytes(): number {
    return this.context.held.held;
  }

  /** Conversations open now (for tests). */
  get openConversationCount(): number {
    return this.open.size;
  }

  /** Conversations in the index now (for tests). */
  get indexedConversations(): number {
    let n = 0;
    for (const entry of this.conversations.values()) n += entry instanceof Map ? entry.size : 1;
    return n;
  }

  /**
   * The endpoint's number: address id · 65536 + port. Once the small ids are all given, a new IPv4 address is its own
   * number instead, negative so that no id's is the same: an id's entry cost each of 200,000 idle clients, every one
   * from its own address, 46 bytes, for an endpoint number that is no longer a small integer either way.
   */
  private endpointKey(ip: AddressKey, port: number): number {
    let id = this.addressIds.get(ip);
    if (id === undefined) {
      if (typeof ip === 'number' && this.nextAddressId >= SMALL_ADDRESS_IDS) return -1 - ((ip >>> 0) * 65536 + port);
      id = this.nextAddressId++;
      this.addressIds.set(ip, id);
    }
    return id * 65536 + port;
  }

  /**
   * Forget the ids of addresses that no conversation in the index has at one end (they ended and lingered). Run
   * between segments (every endpoint number in use is then in the index), once the addresses have doubled since
   * the last sweep: each costs O(1) over the capture, and an open connection pays nothing for it.
   */
  private sweepAddresses(): void {
    const used = new Set<number>();
    const note = (conv: Indexed<S>) => {
      used.add(Math.floor(this.keyA(conv) / 65536));
      used.add(Math.floor(this.keyB(conv) / 65536));
    };
    for (const entry of this.conversations.values()) {
      if (entry instanceof Map) for (const conv of entry.values()) note(conv);
      else note(entry);
    }
    for (const [ip, id] of this.addressIds) if (!used.has(id)) this.addressIds.delete(ip);
    this.addressSweepAt = Math.max(MIN_ADDRESS_SWEEP, 2 * this.addressIds.size);
  }

  /** Addresses held now (for tests). */
  get heldAddresses(): number {
    return this.addressIds.size;
  }

  /** The conversation between two endpoints, whichever of them sent first. */
  private lookup(from: number, to: number): Indexed<S> | undefined {
    return this.indexed(from, to) ?? this.indexed(to, from);
  }

  /** The conversation whose first segment went from `a` to `b`. */
  private indexed(a: number, b: number): Indexed<S> | undefined {
    const entry = this.conversations.get(a);
    if (entry === undefined) return undefined;
    if (entry instanceof Map) return entry.get(b);
    return this.keyB(entry) === b ? entry : undefined;
  }

  private keyA(conv: Indexed<S>): number {
    return typeof conv === 'number' ? this.lingering.keyA(conv) : conv.keyA;
  }

  private keyB(conv: Indexed<S>): number {
    return typeof conv === 'number' ? this.lingering.keyB(conv) : conv.keyB;
  }

  /** Index a new conversation (no other one between its endpoints is indexed: see forget). */
  private remember(conv: Conversation<S>): void {
    const entry = this.conversations.get(conv.keyA);
    if (entry instanceof Map) entry.set(conv.keyB, conv);
    else if (entry === undefined) this.conversations.set(conv.keyA, conv);
    else this.conversations.set(conv.keyA, new Map([[this.keyB(entry), entry], [conv.keyB, conv]]));
  }

  /**
   * A reused 4-tuple, or an ended conversation that lingered: it leaves the index (its id stays taken). A lingering one
   * hands its record's late changes on (StreamSink.retired), and its turn among the lingering passes it over.
   */
  private forget(conv: Indexed<S>): void {
    if (typeof conv === 'number') {
      const late = this.lingering.lateChanges(conv);
      if (late) this.sink.retired?.(late);
      this.lingering.leave(conv);
    } else {
      this.leftOpen(conv);
    }
    const a = this.keyA(conv);
    const entry = this.conversations.get(a);
    if (entry === conv) this.conversations.delete(a);
    else if (entry instanceof Map) {
      const b = this.keyB(conv);
      if (entry.get(b) !== conv) return;
      entry.delete(b);
      if (entry.size === 0) this.conversations.delete(a);
    }
  }

  overview(): TcpOverview {
    const topServerPorts = [...this.serverPorts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 5)
      .map(([port, conversations]) => ({ port, conversations }));
    return { conversations: this.nextId, topServerPorts };
  }

  /**
   * End of input: every connection still open ends here (missing data becomes gaps) and is final at once (retired
   * right after its close); then every closed record still indexed is final, and retired.
   */
  end(): void {
    for (const _ of this.ending());
  }

  /**
   * end(), one connection at a time: it pauses after each open connection it ends, saying how many are still to end,
   * so that whoever drives it can wait for their output (200,000 connections open at the end of a capture make all
   * their output at once).
   */
  *ending(): Generator<number> {
    this.inputEnded = true;
    this.letGoWarnings.end();
    const open = this.openConversations(true);
    for (let i = 0; i < open.length; i++) {
      const conv = open[i]!;
      // No segment can move its record any more: it is final at once (retired right after its close) and the
      // conversation keeps nothing of it, so that ending 200,000 connections holds none of them until the last one.
      this.finish(conv, 'end-of-capture', conv.conn!.lastFrame, false);
      yield open.length - i - 1;
    }
    if (!this.sink.retired) return;
    for (const entry of this.conversations.values()) {
      for (const conv of entry instanceof Map ? entry.values() : [entry]) {
        const late = typeof conv === 'number' ? this.lingering.lateChanges(conv) : null;
        if (late) this.sink.retired(late);
      }
    }
  }

  /**
   * The conversations still open (`imap`: only the IMAP connections), in the order they opened: every open
   * conversation is indexed (one leaves the index only once it ended, or when a new one takes its 4-tuple, which ends
   * it first), and ids grow in order of first sight.
   */
  private openConversations(imap: boolean): Conversation<S>[] {
    const open: Conversation<S>[] = [];
    const note = (conv: Indexed<S>) => {
      if (typeof conv !== 'number' && (!imap || conv.reassembling)) open.push(conv);
    };
    for (const entry of this.conversations.values()) {
      if (entry instanceof Map) for (const conv of entry.values()) note(conv);
      else note(entry);
    }
    return open.sort((a, b) => a.id - b.id);
  }

  /** `senderIsA`: this segment's sender sent the conversation's first segment. */
  private startConnection(conv: Conversation<S>, seg: Segment, senderIsA: boolean): void {
    const senderIsClient = this.senderIsClient(seg);
    const time = timeOf(seg.frame);
    const conn: Connection = {
      id: conv.id,
      client: senderIsClient ? { ip: this.text(seg.src), port: seg.srcPort } : { ip: this.text(seg.dst), port: seg.dstPort },
      server: senderIsClient ? this.server(seg.dst, seg.dstPort) : this.server(seg.src, seg.srcPort),
      firstFrame: seg.frame.number,
      lastFrame: seg.frame.number,
      start: time,
      end: time,
      sawSyn: (seg.flags & TCP_SYN) !== 0,
      state: 'open',
      stats: COUNTED_AT_CLOSE,
    };
    conv.reassemble(conn, senderIsClient === senderIsA);
  }

  private server(ip: AddressKey, port: number): Endpoint {
    const key = `${port} ${ip}`;
    let endpoint = this.servers.get(key);
    if (endpoint === undefined) {
      endpoint = { ip: this.text(ip), port };
      if (this.servers.size < SHARED_SERVER_ENDPOINTS) this.servers.set(key, endpoint);
    }
    return endpoint;
  }

  private text(address: AddressKey): string {
    let text = this.texts.get(address);
    if (text === undefined) {
      if (this.texts.size >= SHARED_ADDRESS_TEXTS) this.texts.clear();
      text = addressText(address);
      this.texts.set(address, text);
    }
    return text;
  }

  private senderIsClient(seg: Segment): boolean {
    const dstIsServer = this.options.ports.has(seg.dstPort);
    const srcIsServer = this.options.ports.has(seg.srcPort);
    if (dstIsServer !== srcIsServer) return dstIsServer;
    // Both (or neither) on a server port: the handshake decides, else the lower port is the server.
    if (seg.flags & TCP_SYN) return (seg.flags & TCP_ACK) === 0;
    return seg.dstPort <= seg.srcPort;
  }

  /** A segment of a conversation whose IMAP connection is open (track checks: not again here, on every segment). */
  private advance(conv: Conversation<S>, seg: Segment, fromClient: boolean): void {
    const frame = seg.frame.number;
    lastSeen(conv.conn!, seg.frame);
    const wasQuiet = conv.isQuiet;
    if (conv.notedBareSyn(seg, fromClient)) return;
    if (seg.flags & TCP_RST) {
      this.finish(conv, 'reset', frame, true);
      return;
    }
    const half = conv.half(fromClient);
    const peer = conv.streamToAck(!fromClient);
    let seq = seg.seq;
    if (seg.flags & TCP_SYN) {
      half.syn(seq);
      seq = seqAdd(seq, 1); // data on a SYN (TCP Fast Open) starts after it
    }
    // A peer that sent nothing yet has no stream to acknowledge (HalfStream.peerAck ignores a stream without a segment).
    if (seg.flags & TCP_ACK) peer?.peerAck(seg.ack, frame, seg.frame.tsSec);
    half.segment(seq, seg.payload, seg.missingPayload, (seg.flags & TCP_FIN) !== 0, frame, seg.frame.tsSec);
    if (conv.finished) this.finish(conv, 'closed', frame, true);
    else if (wasQuiet) conv.stillQuiet();
  }

  /**
   * `lingers`: the conversation stays in the index (it ended at a segment of its own); otherwise (the end of the input,
   * a reused 4-tuple) the record is final and retired here.
   */
  private finish(conv: Conversation<S>, reason: EndState | 'end-of-capture', frame: number, lingers: boolean): void {
    // Pooled at the end, 200,000 open connections' rings were 400,000 entries of the spare lists, promoted while they
    // grew: most of what ending them left in the old generation.
    const final = conv.finish(reason, frame, this.inputEnded ? null : this.context.rings, lingers);
    if (final) this.sink.retired?.(final);
  }
}


/** The server's port as the first segment of a conversation shows it: the SYN's destination, else the lower port. */
function serverPortOf(seg: Segment): number {
  if ((seg.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) return seg.dstPort;
  if ((seg.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) return seg.srcPort;
  return Math.min(seg.srcPort, seg.dstPort);
}
