import { createHash, hash as hashOf, type Hash } from 'node:crypto';
import type { Exchange, ImapConnection } from '../imap/model.js';
import type { Connection } from '../tcp/types.js';
import { parseFetch } from '../imap/fetch.js';
import { isFetchResponse, type Response } from '../imap/response.js';
import type { Value } from '../imap/tokens.js';
import type { ImapMessage, Literal, LiteralConsumer } from '../imap/types.js';
import { parseBodyStructure, partByNumber } from '../mime/bodystructure.js';
import { MAX_AHEAD, MAX_MESSAGES, SequenceUids } from './sequence-uids.js';
import { envelopeFromHeader } from '../mime/header-envelope.js';
import { structureFromMessage } from '../mime/from-message.js';
import type { Envelope, FetchAttributes, FetchedSection, MimePart, SectionSpec } from '../mime/types.js';
import { detached, Interner, ListInterner } from '../util/intern.js';
import { boxOrder, byName, MessageRuns, sectionSpecs, type Held, type HeldLine } from './fetch-runs.js';
import { filterFetches, messageView, type FetchList, type MessageView } from './message-view.js';

/** How a fetch covered its part: all of it, a byte range, or a piece of its header. */
export type FetchHow = 'full' | 'partial' | 'header' | 'header-fields' | 'text' | 'mime' | 'size';

/** One section the server returned for one message. */
export interface SectionFetch {
  conn: number;
  tag: string | null;
  command: string;
  requestFrame: number | null;
  /** Frame of the last byte of the FETCH response that carried it (of its instalment, for a long one: ImapMessage.instalment). */
  frame: number;
  item: string;
  /** The section spec as sent ("" for the whole message). */
  section: string;
  spec: SectionSpec;
  origin: number | null;
  how: FetchHow;
  /** Octets returned, and their SHA-256 as the server sent them (before any transfer decoding). */
  bytes: number;
  sha256: string | null;
  /** False when the capture lost some of the octets. */
  complete: boolean;
  /** The part of the message tree this names, when the tree is known; null for the whole message or an unknown part. */
  part: string | null;
  /**
   * With the tracker option `numberSections`: the section's place among all sections the tracker met (0, 1, 2, …,
   * in onSection's order). It survives spilled runs, so a consumer of sorted() finds each section it was handed.
   */
  order?: number;
}

/** Everything fetched of one message: mailbox + UIDVALIDITY + UID identify it. */
export interface FetchedMessage {
  mailbox: string | null;
  uidValidity: number | null;
  uid: number | null;
  /** Sequence number at the first fetch (when no UID was ever learned, the only identity). */
  seq: number;
  envelope: Envelope | null;
  size: number | null;
  internalDate: string | null;
  flags: string[] | null;
  structure: MimePart | null;
  /** Where the tree came from: the server's BODYSTRUCTURE, or the fetched message itself. */
  structureFrom: 'BODYSTRUCTURE' | 'message' | null;
  fetches: SectionFetch[];
}

/** One FETCH command seen from its responses: the unit of a client's fetch strategy. */
export interface FetchStep {
  conn: number;
  tag: string | null;
  command: string;
  requestFrame: number | null;
  mailbox: string | null;
  messages: number;
  /** Item names returned, partial origins dropped: UID, FLAGS, BODYSTRUCTURE, BODY[HEADER.FIELDS (…)], BODY[1], … */
  items: string[];
  /** The UIDs it fetched, the first 1000 (none with the tracker option stepUids: false). */
  uids: number[];
}

/**
 * A mailbox (name and UIDVALIDITY) and the messages of it held in memory. With `spill`, one that holds nothing and no
 * connection has selected is forgotten at a spill (a later SELECT makes it anew): a server's capture has a mailbox per
 * account, and 133,000 of them took 26 MiB of a 4 GiB folder sync's heap.
 */
interface Box {
  mailbox: string | null;
  uidValidity: number | null;
  /**
   * By messageKey(); null once spilled (until a message of it comes again). With `spill`, a message not met for a
   * while is held as its run record (a number: the record's line in the runs' arena; see compact()) until it is met
   * again or spilled.
   */
  messages: Map<number, FetchedMessage | number> | null;
  /**
   * With `spill`: the run record of what came before a message's current record, since that message was met again
   * after it was compacted (revive()); by key. Written before the current record, so the merge combines them in order.
   */
  earlier: Map<number, number> | null;
}

/** What a message's earlier pieces (held as a record) tell the checks made on its current one. */
interface Earlier {
  /** The part numbers of the tree they hold; null for none. */
  parts: ReadonlySet<string> | null;
  structureFrom: FetchedMessage['structureFrom'];
  envelope: boolean;
}

/**
 * Messages met in the last this many FETCH responses stay whole (objects); older ones are held as their run record,
 * one string. A folder sync meets each message once: kept whole until a spill, its objects outlived the young
 * generation and were promoted, which cost collector time and memory (docs/benchmarks.md, ninth round).
 */
export const LIVE_MESSAGES = 16;

/** Different item names a FETCH step lists, at most (a command asks for a handful; a response can name every part). */
export const MAX_STEP_ITEMS = 1000;

/**
 * Bytes of held records' lines (in the runs' arena) that make the tracker spill, whatever the count of records: the
 * budget counts records, which are about 0.4 KiB on a folder sync, but one made from a hostile BODYSTRUCTURE may be
 * a megabyte.
 */
export const HELD_LINE_BYTES = 64 * 1024 * 1024;

/** A message's key in its box: its UID, or (while no UID is known) its sequence number as -(seq + 1), which never collides. */
function messageKey(uid: number | null, seq: number): number {
  return uid ?? -seq - 1;
}

/**
 * A record held by `key` in `box`, as the merge order sees it (identity from the key and the box; the sequence number
 * only orders messages without a UID, so a message with one gets 0).
 */
function heldLine(box: Box, key: number, line: Buffer): HeldLine {
  const uid = key >= 0 ? key : null;
  return { message: { mailbox: box.mailbox, uidValidity: box.uidValidity, uid, seq: uid === null ? -key - 1 : 0 }, line };
}

interface ConnState {
  /** Its connection: once closed, the state is dropped (see state()). */
  conn: Connection;
  mailbox: string | null;
  uidValidity: number | null;
  /** Sequence numbers to UIDs, kept in step with EXPUNGE renumbering. */
  seqToUid: SequenceUids;
  /** A FETCH named a number too far beyond the mailbox to keep (warned once per selection). */
  beyondWarned: boolean;
  /** The mailbox's messages (shared by every connection that selects it). */
  box: Box;
}

export interface FetchTrackerOptions {
  /** Called for each section as soon as its FETCH response is complete (NDJSON streaming, extraction). */
  onSection?(msg: FetchedMessage, fetch: SectionFetch, section: FetchedSection): void;
  warn?(frame: number, conn: number, message: string): void;
  /**
   * Keep every message and FETCH command for list() and steps (default true). False streams only: each
   * section reaches onSection with a message record made for that one response (identity and this
   * response's size, date, flags and ENVELOPE; no tree, no envelope read from a header, `fetches` empty),
   * nothing is kept past it, and memory is bounded by open connections.
   */
  retain?: boolean;
  /**
   * Follow each FETCH command's step (steps): by default when retaining. With retain: false, true follows them alone (the
   * fetch strategy, as compare reads it); with retain, false leaves them out (extract writes messages, never steps).
   */
  steps?: boolean;
  /**
   * Hold at most about `budget` records (messages and their sections) in memory: beyond it, what is held is
   * written as a sorted run to a private directory made in `dir` (default: the system's temporary
   * directory), and sorted() merges the runs at the end. Only sorted() sees every message (list() sees
   * those held whole); the directory is removed when sorted() is done or by dispose().
   * A message fetched again after a spill starts a new record (its BODYSTRUCTURE is read again, and `warn`
   * cannot check its sections against the spilled tree); the merge combines the records as memory would.
   * `live` (default LIVE_MESSAGES): messages met in that many latest responses stay whole; older ones are held as
   * their run records, and one met again continues as memory would (its checks see the earlier pieces).
   * `lineBytes` (default HELD_LINE_BYTES): what is held is also spilled once the held records' lines take that many
   * bytes (a hostile BODYSTRUCTURE makes a record of a megabyte).
   * `fetchesHeld` (default MAX_FETCHES_HELD): sections a message merged from several pieces holds as objects; past
   * that, sorted() gives its `fetches` as a list on disk (SpooledFetches), valid until sorted() is done.
   */
  spill?: { budget: number; dir?: string; live?: number; lineBytes?: number; fetchesHeld?: number };
  /** Keep each step's UIDs (the first 1000; default true). The `fetches` views never show them: false saves memory per FETCH command. */
  stepUids?: boolean;
  /** Give every SectionFetch its `order` (extract writes its files in that order from the sorted, merged messages). */
  numberSections?: boolean;
  /**
   * Hand each FETCH command's step on once its exchange is complete (exchangeDone), with the step's number in order
   * of creation (steps sort by request frame, then that number), instead of keeping it: `steps` is then empty and
   * memory does not grow by a step per FETCH command. Steps whose exchange was never reported go at endSteps().
   */
  onStep?(step: FetchStep, created: number): void;
}

/** A FETCH command's step while its responses come: the item names it has, and its number in order of creation. */
interface OpenStep {
  step: FetchStep;
  items: Set<string>;
  created: number;
  /** More items than MAX_STEP_ITEMS were named (and warned about). */
  capped?: boolean;
}

/**
 * Follows FETCH responses across a capture: ties every one to a message (mailbox, UIDVALIDITY, UID —
 * mapping sequence numbers through FETCH UID data and EXPUNGE renumbering), keeps its envelope and
 * structure, and records every section fetched with its size and hash. Literals are hashed as they
 * stream past, so no body has to be held.
 */
export class FetchTracker {
  /** Mailboxes by name and UIDVALIDITY, in order of first sight. */
  private readonly boxes = new Map<string, Box>();
  private readonly conns = new Map<number, ConnState>();
  private readonly retain: boolean;
  /**
   * Values that recur in every response of a sync (section specs, item names, tags, flag lists) are kept
   * once: each fetch record then costs its numbers and its hash, not copies of the wire text.
   */
  private readonly specs = sectionSpecs();
  private readonly names = new Interner((text) => text);
  private readonly flagLists = new ListInterner();
  /** A sync's FETCH commands ask for the same items: their steps share one frozen list (an own list reserved 17 places). */
  private readonly itemLists = new ListInterner();

  /** Sorted runs on disk (with the `spill` option), the records held in memory, and how many may be. */
  private readonly runs: MessageRuns | null;
  private held = 0;
  private readonly budget: number;
  private readonly lineBytes: number;
  /**
   * With `spill`: the messages of the latest responses (a ring of `live` places), each with its box and key; the one
   * a new response pushes out is compacted, unless it was met again since (then a later place holds it too).
   */
  private readonly live: number;
  private readonly recentBoxes: (Box | undefined)[] = [];
  private readonly recentKeys: number[] = [];
  private readonly recentMessages: (FetchedMessage | undefined)[] = [];
  private recentAt = 0;
  /** Records that continue a message whose earlier pieces are held as a run record (revive()). */
  private readonly earlierOf = new WeakMap<FetchedMessage, Earlier>();
  /** The UID of each connection's FETCH response that is coming in instalments (ImapMessage.instalment), while it comes. */
  private readonly seriesUids = new Map<number, number | null>();
  /** Sections met so far (their `order`, with numberSections). */
  private sectionCount = 0;

  constructor(private readonly options: FetchTrackerOptions = {}) {
    this.retain = options.retain ?? true;
    this.runs = options.spill && this.retain ? new MessageRuns(options.spill.dir, options.spill.fetchesHeld) : null;
    this.budget = this.runs ? options.spill!.budget : Infinity;
    this.lineBytes = options.spill?.lineBytes ?? HELD_LINE_BYTES;
    this.live = Math.max(1, options.spill?.live ?? LIVE_MESSAGES);
  }

  /** Hash server literals of FETCH responses while they stream (unless no section is kept or handed on). */
  literalStart(msg: ImapMessage, literal: Literal): LiteralConsumer | null {
    if (!this.retain && !this.options.onSection) return null;
    if (!isFetchResponse(msg)) return null;
    // A kept literal (a header, a small part: most of a sync's) is hashed whole at its end, with no hash object of its own.
    const kept = literal.data;
    if (kept) return { end: (complete) => { if (complete) literal.sha256 = hashOf('sha256', kept, 'hex'); } };
    const hash: Hash = createHash('sha256');
    return {
      write: (chunk) => { hash.update(chunk); },
      end: (complete) => { if (complete) literal.sha256 = hash.digest('hex'); },
    };
  }

  untagged(r: Response, msg: ImapMessage, owner: Exchange | null, info: ImapConnection): void {
    // Only a FETCH or an EXPUNGE reads or moves the numbering: an EXISTS or a RECENT makes none (a server's idle mail
    // clients each selected a mailbox, and most fetched nothing since).
    if (r.kind !== 'numbered' || (r.type !== 'FETCH' && r.type !== 'EXPUNGE')) return;
    const state = this.state(info);
    if (r.type === 'EXPUNGE') {
      state.seqToUid.expunge(r.number);
      return;
    }
    if (r.type !== 'FETCH' || r.values[0]?.kind !== 'list') return;
    const items = r.values[0].items;
    const series = msg.instalment;
    const continued = series !== undefined && series.index > 0;
    // A later instalment carries no UID: it is the message of the first, whatever the sequence number maps to.
    const seriesUid = continued ? this.seriesUids.get(info.conn.id) : undefined;
    if (series?.last) this.seriesUids.delete(info.conn.id);
    if (continued && items.length === 0) return; // the end of a response in instalments: nothing more in it
    const warn = (m: string) => this.options.warn?.(msg.firstFrame, info.conn.id, m);
    const attrs = parseFetch(items, warn, { deferBodyStructure: true });
    const seq = r.number;
    if (attrs.uid !== null && !state.seqToUid.set(seq, attrs.uid, info.selected?.exists ?? 0) && !state.beyondWarned) {
      state.beyondWarned = true;
      warn(`FETCH names message ${seq}, beyond the mailbox (${info.selected?.exists ?? 'no'} EXISTS; at most ${MAX_AHEAD} past the highest number seen, ${MAX_MESSAGES} in all): its UID ${attrs.uid} is not kept for that number`);
    }
    const uid = attrs.uid ?? seriesUid ?? state.seqToUid.get(seq) ?? null;
    if (series?.last === false) this.seriesUids.set(info.conn.id, uid);
    const message = this.retain ? this.message(state, uid, seq) : newMessage(state, uid, seq);
    const earlier = this.earlierOf.get(message);
    if (attrs.bodyStructureValue) this.noteStructure(message, attrs.bodyStructureValue, warn, earlier);
    // A later instalment of a long response adds items to its step, not a message.
    if (owner && (this.options.steps ?? this.retain)) this.noteStep(owner, info, message, itemNames(attrs), msg, continued);
    if (!this.retain && !this.options.onSection) return;
    message.envelope ??= attrs.envelope;
    message.size ??= attrs.size;
    // A message not retained is let go once its sections are handed on: it need not own its texts, nor share its flags.
    message.internalDate ??= attrs.internalDate === null || !this.retain ? attrs.internalDate : detached(attrs.internalDate);
    if (attrs.flags) message.flags = this.retain ? this.flagLists.get(attrs.flags) : attrs.flags;
    for (const s of attrs.sections) {
      const spec = this.specs.get(s.section);
      // What the earlier pieces have is not looked for again (the merge would keep theirs).
      if (this.retain && !message.envelope && !earlier?.envelope && s.literal?.data && spec.part === '') message.envelope = envelopeFromHeader(s.literal.data);
      if (this.retain && !message.structure && !earlier?.parts && s.literal?.data && spec.part === '' && spec.text === null && s.origin === null) this.deriveStructure(message, s.literal.data);
      const fetch = this.sectionFetch(s, spec, msg, owner, info, message, earlier);
      // A list literal has room for just its items (a push onto [] would reserve 17).
      if (this.retain && message.fetches.length === 0) message.fetches = [fetch];
      else if (this.retain) message.fetches.push(fetch);
      this.held++;
      this.options.onSection?.(message, fetch, s);
    }
    if (this.runs && this.retain) this.met(state.box, messageKey(uid, seq), message);
    if (this.held > this.budget || (this.runs !== null && this.runs.lines.bytes > this.lineBytes)) this.spill();
  }

  /** A response met `message`: it takes the newest place of the ring, and the message in the oldest is compacted. */
  private met(box: Box, key: number, message: FetchedMessage): void {
    const at = this.recentAt;
    const oldBox = this.recentBoxes[at];
    if (oldBox) this.compact(oldBox, this.recentKeys[at]!, this.recentMessages[at]!);
    this.recentBoxes[at] = box;
    this.recentKeys[at] = key;
    this.recentMessages[at] = message;
    this.recentAt = (at + 1) % this.live;
  }

  /**
   * Hold a message as its run record, unless it is no longer held whole (compacted or spilled already, or held anew),
   * its tree is still being parsed, or it continues earlier pieces: a message met again is likely to be met again,
   * and re-encoding its growing record each time would make a message fetched N times cost N² (it stays whole until
   * the spill, as every record did before).
   */
  private compact(box: Box, key: number, message: FetchedMessage): void {
    if (box.messages?.get(key) !== message || this.deriving.has(message) || box.earlier?.has(key)) return;
    const runs = this.runs!;
    box.messages.set(key, runs.lines.add(runs.codec.encode({ message: messageView(message) })));
  }

  /**
   * A message held as its run record is met again: the record waits in `earlier` for the new record `message`
   * (both are written, the merge combines them), and what the checks need of it is noted for `message`.
   */
  private revive(box: Box, key: number, line: number, message: FetchedMessage): void {
    (box.earlier ??= new Map()).set(key, line);
    const before = this.runs!.codec.decode(this.runs!.lines.textOf(line)).message;
    this.earlierOf.set(message, { parts: before.parts ? new Set(before.parts.map((p) => p.part)) : null, structureFrom: before.structureFrom, envelope: before.envelope !== null });
  }

  /**
   * A message's tree from its BODYSTRUCTURE. A message (mailbox, UIDVALIDITY, UID) never changes, so once
   * its tree is known, the same message fetched again — by this connection or any other — shares that
   * tree instead of parsing and holding another. Messages whose identity is not certain (no UID, or no
   * selected mailbox and UIDVALIDITY seen) always get their own.
   */
  private noteStructure(message: FetchedMessage, value: Value, warn: (m: string) => void, earlier: Earlier | undefined): void {
    const certain = this.retain && message.uid !== null && message.mailbox !== null && message.uidValidity !== null;
    if (certain && (message.structureFrom ?? earlier?.structureFrom) === 'BODYSTRUCTURE') return;
    if (!this.retain && !this.options.warn) return; // a streamed record carries no tree
    message.structure = parseBodyStructure(value, warn);
    message.structureFrom = 'BODYSTRUCTURE';
  }

  /** Per FETCH command: how many messages it touched and which items it asked for (the fetch strategy). */
  private readonly stepList: FetchStep[] = [];
  /**
   * Each open FETCH command's step, with the item names it has (a set: one response may carry thousands of
   * sections, and a search of the list per item made that quadratic). Weak: a finished command's exchange,
   * and the set with it, is not kept alive by its step.
   */
  private readonly stepOf = new WeakMap<Exchange, OpenStep>();
  private stepsCreated = 0;
  /** With onStep: the steps not handed on yet (a WeakMap cannot be walked at the end). */
  private readonly unreported = new Set<OpenStep>();

  /** Trees still being parsed; each leaves the set when done, so the set stays small. */
  private readonly derivations = new Set<Promise<void>>();
  /** Messages with a tree still being parsed: they are not final, so they are never spilled. */
  private readonly deriving = new Map<FetchedMessage, number>();

  /**
   * A whole message fetched without BODYSTRUCTURE: its tree is parsed from the message itself. Parsing
   * is asynchronous (mailsplit is a stream); settle() waits for what is still running.
   */
  private deriveStructure(message: FetchedMessage, raw: Buffer): void {
    const running: Promise<void> = structureFromMessage(raw).then((tree) => {
      if (tree && !message.structure) {
        message.structure = tree;
        message.structureFrom = 'message';
      }
    }).finally(() => {
      this.derivations.delete(running);
      const left = this.deriving.get(message)! - 1;
      if (left === 0) this.deriving.delete(message);
      else this.deriving.set(message, left);
    });
    this.derivations.add(running);
    this.deriving.set(message, (this.deriving.get(message) ?? 0) + 1);
  }

  /** Wait for message trees still being parsed (call once the capture has been read). */
  async settle(): Promise<void> {
    await Promise.all([...this.derivations]);
  }

  /** The exchange is complete (analyzeWithFetches reports each): with onStep, its step, if it has one, is final and goes. */
  exchangeDone(ex: Exchange): void {
    if (!this.options.onStep) return;
    const open = this.stepOf.get(ex);
    if (!open) return;
    this.stepOf.delete(ex);
    this.unreported.delete(open);
    this.options.onStep(open.step, open.created);
  }

  /** End of the capture: with onStep, the steps whose exchanges were never reported complete go too. */
  endSteps(): void {
    for (const open of this.unreported) this.options.onStep?.(open.step, open.created);
    this.unreported.clear();
  }

  /** FETCH commands in request order (none with onStep: they were handed on). */
  get steps(): FetchStep[] {
    return [...this.stepList].sort((a, b) => (a.requestFrame ?? Infinity) - (b.requestFrame ?? Infinity));
  }

  /** Messages by mailbox and UID (those known only by sequence number last); with `spill`, only those held whole. */
  list(): FetchedMessage[] {
    const all: FetchedMessage[] = [];
    for (const box of this.boxes.values()) for (const m of box.messages?.values() ?? []) if (typeof m !== 'number') all.push(m);
    return all.sort((a, b) =>
      byName(a.mailbox ?? '', b.mailbox ?? '') || (a.uidValidity ?? 0) - (b.uidValidity ?? 0) ||
      (a.uid ?? Number.MAX_SAFE_INTEGER) - (b.uid ?? Number.MAX_SAFE_INTEGER) || a.seq - b.seq || boxOrder(a, b));
  }

  /**
   * Every message in list()'s order, spilled ones too (after settle()), one at a time, as the `fetches` listings
   * show them; with `spill`, the runs and the records held are merged as this is read (so it can be read once) and
   * the runs' directory is removed when it is done. With `decodeFirst` (a view that shows that many and counts the
   * rest), messages merged off disk past about that many are counted, not made: the generator returns their number.
   */
  sorted(decodeFirst = Infinity): Generator<MessageView, number> {
    if (!this.runs) return viewsOf(this.list());
    return this.runs.messages(this.takeHeld(() => true), decodeFirst);
  }

  /**
   * Mailboxes known now (for tests): with `spill`, those holding something or selected by a connection not swept yet;
   * streaming (retain: false), none.
   */
  get knownMailboxes(): number {
    return this.boxes.size;
  }

  /** Runs written to disk so far (with `spill`). */
  get spilledRuns(): number {
    return this.runs?.written ?? 0;
  }

  /** Remove spilled runs (when sorted() is not read to its end, e.g. after an error). */
  dispose(): void {
    this.runs?.dispose();
  }

  /** Write every final record held (all but those with a tree still being parsed) as a sorted run. */
  private spill(): void {
    const held = this.takeHeld((m) => !this.deriving.has(m));
    if (held.length > 0) this.runs!.spill(held);
    // The ring lets go of what went to disk: a message of many sections would otherwise stay alive in it.
    for (let at = 0; at < this.live; at++) {
      const message = this.recentMessages[at];
      if (message && this.recentBoxes[at]!.messages?.get(this.recentKeys[at]!) !== message) {
        this.recentBoxes[at] = undefined;
        this.recentMessages[at] = undefined;
      }
    }
  }

  /**
   * Take the held records that `final` accepts out of memory, each as its view (or its run record) with its mailbox's
   * index; a message's earlier pieces before its current record.
   */
  private takeHeld(final: (m: FetchedMessage) => boolean): Held[] {
    const taken: Held[] = [];
    this.held = 0;
    for (const box of this.boxes.values()) {
      for (const [key, line] of box.earlier ?? []) taken.push(heldLine(box, key, this.runs!.lines.octetsOf(line)));
      box.earlier = null;
      if (!box.messages) continue;
      for (const [key, message] of box.messages) {
        if (typeof message === 'number') taken.push(heldLine(box, key, this.runs!.lines.octetsOf(message)));
        else if (final(message)) taken.push({ message: messageView(message) });
        else {
          this.held += 1 + message.fetches.length;
          continue;
        }
        box.messages.delete(key);
      }
      if (box.messages.size === 0) box.messages = null;
    }
    this.forgetEmptyBoxes();
    return taken;
  }

  /** Mailboxes that hold nothing and no connection has selected go (see Box). */
  private forgetEmptyBoxes(): void {
    const selected = new Set<Box>();
    // A closed connection's state waits for the next sweep (dropClosed), but it fetches nothing more.
    for (const s of this.conns.values()) if (s.conn.state === 'open') selected.add(s.box);
    for (const [key, box] of this.boxes) if (box.messages === null && box.earlier === null && !selected.has(box)) this.boxes.delete(key);
  }

  private noteStep(owner: Exchange, info: ImapConnection, message: FetchedMessage, items: string[], msg: ImapMessage, continued: boolean): void {
    let open = this.stepOf.get(owner);
    if (!open) {
      const uids = this.options.stepUids === false ? NO_UIDS : [];
      const step = { conn: info.conn.id, tag: this.tagOf(owner), command: this.names.get(owner.command), requestFrame: owner.requestFrame, mailbox: info.selected?.name ?? null, messages: 0, items: NO_ITEMS, uids };
      open = { step, items: new Set(), created: this.stepsCreated++ };
      this.stepOf.set(owner, open);
      if (this.options.onStep) this.unreported.add(open);
      else this.stepList.push(step);
    }
    const { step } = open;
    if (!continued) {
      step.messages++;
      if (message.uid !== null && step.uids.length < 1000 && this.options.stepUids !== false) step.uids.push(message.uid);
    }
    let added: string[] | null = null;
    for (const i of items) {
      if (open.items.has(i)) continue;
      if (open.items.size >= MAX_STEP_ITEMS) {
        // Each new list is kept (interned): without a cap, a response naming every part of a message one by one would
        // make as many lists as it has instalments, each longer than the last.
        if (!open.capped) this.options.warn?.(msg.firstFrame, info.conn.id, `the FETCH step of ${owner.tag ?? 'a command'} names more than ${MAX_STEP_ITEMS} different items (the cap on those its step lists); the rest are left out of the list`);
        open.capped = true;
        break;
      }
      open.items.add(i);
      (added ??= [...step.items]).push(i);
    }
    if (added) step.items = this.itemLists.get(added);
  }

  private tagOf(owner: Exchange | null): string | null {
    return owner?.tag == null ? null : this.names.get(owner.tag);
  }

  private state(info: ImapConnection): ConnState {
    const id = info.conn.id;
    let s = this.conns.get(id);
    const name = info.selected?.name ?? null;
    const validity = info.selected?.uidValidity ?? null;
    if (!s || s.mailbox !== name || s.uidValidity !== validity) {
      // Another mailbox (or a re-SELECT): sequence numbers start over.
      const key = name === null ? `\0${validity}` : `${name}\0\0${validity}`;
      // Streaming (retain: false), no message is held, so a mailbox is never looked up again: each state has its own
      // (a box per account kept to the end grew compare's live heap by 20 MiB on a 4 GiB folder sync).
      let box = this.retain ? this.boxes.get(key) : undefined;
      if (!box) {
        box = { mailbox: name, uidValidity: validity, messages: null, earlier: null };
        if (this.retain) this.boxes.set(key, box);
      }
      s = { conn: info.conn, mailbox: name, uidValidity: validity, seqToUid: new SequenceUids(), beyondWarned: false, box };
      this.conns.set(id, s);
      if (this.conns.size >= this.sweepAt) this.dropClosed();
    }
    return s;
  }

  /** Sweeps grow with the open connections, so sweeping costs O(1) per connection over the capture. */
  private sweepAt = 1024;

  /** Closed connections send nothing more: their sequence-number maps go, so these stay bounded by open connections. */
  private dropClosed(): void {
    for (const [id, s] of this.conns) if (s.conn.state !== 'open') this.conns.delete(id);
    this.sweepAt = Math.max(1024, 2 * this.conns.size);
  }

  private message(state: ConnState, uid: number | null, seq: number): FetchedMessage {
    const key = messageKey(uid, seq);
    const messages = state.box.messages ??= new Map();
    const held = messages.get(key);
    if (held !== undefined && typeof held !== 'number') return held;
    const m = newMessage(state, uid, seq);
    if (held !== undefined) this.revive(state.box, key, held, m);
    messages.set(key, m);
    this.held++;
    return m;
  }

  private sectionFetch(s: FetchedSection, spec: SectionSpec, msg: ImapMessage, owner: Exchange | null, info: ImapConnection, message: FetchedMessage, earlier: Earlier | undefined): SectionFetch {
    const lit = s.literal;
    const complete = lit ? lit.received === lit.length : true;
    const sha256 = lit ? lit.sha256 ?? null : s.value.kind === 'string' ? hashOf('sha256', Buffer.from(s.value.text, 'latin1'), 'hex') : null;
    const part = spec.part || null;
    if (spec.part !== '' && lacksPart(message, earlier, spec.part)) {
      this.options.warn?.(msg.firstFrame, info.conn.id, `section ${s.section} names part ${spec.part}, which the message's BODYSTRUCTURE does not have`);
    }
    const fetch: SectionFetch = {
      conn: info.conn.id, tag: this.tagOf(owner), command: this.names.get(owner?.command ?? '?'), requestFrame: owner?.requestFrame ?? null,
      frame: msg.lastFrame, item: this.names.get(s.item), section: this.names.get(s.section), spec, origin: s.origin, how: howOf(s, spec),
      bytes: s.length, sha256, complete, part,
    };
    if (this.options.numberSections) fetch.order = this.sectionCount++;
    return fetch;
  }
}

/** What a step starts with, and the UIDs of every step when they are not kept: shared, so frozen. */
const NO_ITEMS: string[] = Object.freeze([]) as unknown as string[];
const NO_UIDS: number[] = Object.freeze([]) as unknown as number[];

/**
 * Whether the tree the message has in memory lacks the part: this record's tree once it has taken one (even none, from
 * a BODYSTRUCTURE that could not be read), else its earlier pieces' (their part numbers). No tree: nothing to check.
 */
function lacksPart(message: FetchedMessage, earlier: Earlier | undefined, part: string): boolean {
  if (message.structureFrom !== null) return message.structure !== null && !partByNumber(message.structure, part);
  return earlier?.parts != null && !earlier.parts.has(part);
}

function* viewsOf(messages: FetchedMessage[]): Generator<MessageView, number> {
  for (const m of messages) yield messageView(m);
  return 0;
}

function newMessage(state: ConnState, uid: number | null, seq: number): FetchedMessage {
  return { mailbox: state.mailbox, uidValidity: state.uidValidity, uid, seq, envelope: null, size: null, internalDate: null, flags: null, structure: null, structureFrom: null, fetches: [] };
}

function itemNames(a: FetchAttributes): string[] {
  const names: string[] = [];
  if (a.uid !== null) names.push('UID');
  if (a.flags !== null) names.push('FLAGS');
  if (a.internalDate !== null) names.push('INTERNALDATE');
  if (a.size !== null) names.push('RFC822.SIZE');
  if (a.envelope !== null) names.push('ENVELOPE');
  if (a.bodyStructure !== null || a.bodyStructureValue !== undefined) names.push('BODYSTRUCTURE');
  for (const s of a.sections) names.push(s.item.replace(/<\d+>$/, ''));
  if (a.modseq !== null) names.push('MODSEQ');
  names.push(...Object.keys(a.other));
  return names;
}

function howOf(s: FetchedSection, spec: SectionSpec): FetchHow {
  if (s.kind === 'BINARY.SIZE') return 'size';
  if (s.origin !== null) return 'partial';
  switch (spec.text) {
    case 'HEADER': return 'header';
    case 'HEADER.FIELDS': case 'HEADER.FIELDS.NOT': return 'header-fields';
    case 'TEXT': return 'text';
    case 'MIME': return 'mime';
    default: return 'full';
  }
}

/** Which exchange a fetch or step belongs to (connection, tag, request frame): how -Y's choice reaches fetched sections. */
export function fetchExchangeKey(x: { conn: number; tag: string | null; requestFrame: number | null }): string {
  return `${x.conn}/${x.tag ?? ''}/${x.requestFrame ?? ''}`;
}

/**
 * The messages as fetched by the chosen exchanges only (keys from fetchExchangeKey), one at a time as they are
 * read (the listings stream theirs from a merge); messages none of them fetched are left out.
 */
export function* fetchedBy<M extends { fetches: FetchList }>(messages: Iterable<M>, chosen: ReadonlySet<string>): Generator<M> {
  for (const m of messages) {
    const fetches = filterFetches(m.fetches, (f) => chosen.has(fetchExchangeKey(f)));
    if (fetches.length > 0) yield { ...m, fetches };
  }
}
