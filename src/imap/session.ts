import type { WarningSink } from '../capture/types.js';
import type { Connection, Side, TimePoint } from '../tcp/types.js';
import { commandShape } from './shape.js';
import { ATTRIBUTION_WINDOW, attribute, claimOf, type Claim, type WindowWatcher } from './attribution.js';
import { MAX_PENDING_COMMANDS, MAX_PENDING_HELD, PendingCommands } from './pending.js';
import { secondsBetween } from '../util/time.js';
import { KNOWN_COMMANDS, looksLikeCommand, parseCommand, type Command } from './command.js';
import { DEFAULT_FRAMER_LIMITS, ImapFramer, type FramerLimits, type FramerOutput, type FramerSettings } from './framer.js';
import type { KeyLog } from '../tls/keylog.js';
import { ConnectionTransport, plainGap, type TransportOutput } from './transport.js';
import type { RestingDecryptor } from '../tls/decryptor.js';
import { looksLikeTls } from '../tls/hello.js';
import type { Exchange, ImapConnection } from './model.js';
import { continuedFetch, isNumberedResponse, looksLikeResponse, parseResponse, type Response } from './response.js';
import { SaslTracker } from './sasl-tracker.js';
import { stringOf, type Value } from './tokens.js';
import type { ImapMessage, Literal, LiteralConsumer } from './types.js';
import { decodeMailboxName } from './utf7.js';
import { RecurringValues } from './recurring.js';
import { responseTypeRows, UNKNOWN_RESPONSE, otherResponsesWarning } from './response-types.js';

export interface SessionEvents {
  /** A command was sent (its exchange will be completed later, or at close). */
  opened?(ex: Exchange, info: ImapConnection): void;
  /** A command finished (tagged completion) or the connection ended without one (status null). */
  exchange(ex: Exchange, info: ImapConnection): void;
  /** Every framed message, for transcripts. */
  message?(msg: ImapMessage, info: ImapConnection): void;
  /** A marker in the conversation (TLS, COMPRESS, gap) for transcripts. */
  marker?(side: Side | null, frame: number, text: string, info: ImapConnection): void;
  /** A literal begins: return a consumer to receive its octets as they stream past (hashing, extraction). */
  literalStart?(msg: ImapMessage, literal: Literal, info: ImapConnection): LiteralConsumer | null;
  /** Every untagged response, parsed, with the exchange it was attributed to (FETCH tracking). */
  untagged?(r: Response, msg: ImapMessage, owner: Exchange | null, info: ImapConnection): void;
}

export interface SessionOptions {
  limits?: FramerLimits;
  /** Key log for TLS decryption (may gain secrets while the capture is read). */
  keys?: KeyLog;
  /** Shared by the sessions of one capture, so that what they all say is kept once. */
  recurring?: RecurringValues;
  /** Lists inside a response's lists are read when someone looks into them (TokenReader). */
  nestedListsOnDemand?: boolean;
}

/**
 * What every session of one capture shares: the event receivers, the options and what follows from them
 * (one object made once, not a copy per connection: every open connection would carry it).
 */
export class SessionContext {
  readonly keys: KeyLog | null;
  readonly recurring: RecurringValues;
  readonly framing: Readonly<Record<Side, FramerSettings>>;
  readonly nestedListsOnDemand: boolean;
  /** The untagged response types exchanges count apart, one rule for the capture (Exchange.untaggedByType). */
  readonly responseTypes = responseTypeRows();

  constructor(readonly events: SessionEvents, readonly warn: WarningSink, options: SessionOptions = {}) {
    const limits = options.limits ?? DEFAULT_FRAMER_LIMITS;
    this.keys = options.keys ?? null;
    this.recurring = options.recurring ?? new RecurringValues();
    this.nestedListsOnDemand = options.nestedListsOnDemand ?? false;
    this.framing = {
      client: { side: 'client', limits, plausibleStart: looksLikeCommand },
      server: { side: 'server', limits, plausibleStart: looksLikeResponse, keepsOctets: readsFetchData(events) ? undefined : notNumbered },
    };
  }
}

/**
 * Does anyone but the session read what FETCH responses carry? The session itself never reads a numbered response's
 * literals (attribution reads item names and the UID), so without such a receiver their octets are not kept.
 */
function readsFetchData(events: SessionEvents): boolean {
  return events.message !== undefined || events.untagged !== undefined || events.literalStart !== undefined;
}

function notNumbered(firstLine: string): boolean {
  return !isNumberedResponse(firstLine);
}

/** A command waiting for its tagged completion. */
class Outstanding {
  /** Since when the turn is the client's (after a "+"), or null while the server owes an answer. */
  clientTurnSince: TimePoint | null = null;

  constructor(
    readonly ex: Exchange,
    /** What recognises its untagged responses among those of other outstanding commands. */
    readonly claim: Claim,
  ) {}

  /** The text its exchange keeps (Claimant.held): read off it, not kept as a field of every outstanding command. */
  get held(): number {
    const ex = this.ex;
    return ex.argsClear.length + ex.shape.length + (ex.args === ex.argsClear ? 0 : ex.args.length);
  }

  /** Its exchange's: read there, not kept twice (every idle connection holds its IDLE outstanding). */
  get tag(): string | null {
    return this.ex.tag;
  }
}

/**
 * A session at rest (ImapSession.rest): what a quiet connection's session needs to go on, in one object. The TCP layer
 * says when a connection is quiet (StreamSink.rest: its bytes were acknowledged a while ago). A server's idle clients
 * each held a session, its list of outstanding commands and their IDLE's entry in it: 216 bytes, where this is 80.
 * A TLS connection's rests as a RestingTlsSession.
 */
export class RestingSession {
  constructor(
    readonly info: ImapConnection,
    /** The session's newest exchange while a command is outstanding (ImapSession.newest). */
    readonly newest: Exchange | null,
    /** What the session noted that only some connections do (warnings given, answers without their command). */
    readonly odd: Oddities | null,
    /** The command outstanding (an IDLE, a command the server has not answered yet), or null. */
    readonly ex: Exchange | null,
    readonly claim: Claim | null,
    readonly clientTurnSince: TimePoint | null,
    /** The session was idling in that command: what the server says is the IDLE's. */
    readonly idling: boolean,
  ) {}
}

/**
 * A TLS connection's session at rest: with what its transport's decryptor keeps (ConnectionTransport.rest), or null
 * where nothing is decrypted. An idle IMAPS client decrypted with a key log kept 0.9 KB more of heap awake (its session,
 * transport and decryptor, each direction's state and readers).
 */
export class RestingTlsSession extends RestingSession {
  constructor(
    info: ImapConnection, newest: Exchange | null, odd: Oddities | null, ex: Exchange | null, claim: Claim | null,
    clientTurnSince: TimePoint | null, idling: boolean, readonly decryptor: RestingDecryptor | null,
  ) {
    super(info, newest, odd, ex, claim, clientTurnSince, idling);
  }
}

/** An AUTHENTICATE being followed: its SASL steps, and the command once the server asked for the first response. */
class Authentication {
  readonly steps = new SaslTracker();
  /** From the server's first "+" on, the client's lines are this command's SASL responses, not commands. */
  answering: Outstanding | null = null;
}

/**
 * What few connections need, made when one does: a session field each would be carried by every open connection
 * (200,000 idle mail clients held all of them, empty).
 */
class Oddities {
  pendingOverflowWarned = false;
  pendingHeldWarned = false;
  attributionWindowWarned = false;
  enabledCapWarned = false;
  /** Continuation requests that arrived while the client was still sending the command they answer. */
  earlyContinuations = 0;
  earlyContinuationAt: TimePoint | null = null;
  responsesWithoutRequest = 0;
  /** A FETCH response handed on in instalments, while its later ones come: its number and the exchange it went to. */
  continuing: { number: number; owner: Exchange | null } | null = null;
}

/** Mailboxes remembered per connection from LIST responses (a huge account lists many more). */
const MAX_MAILBOXES = 1000;

/** Extensions listed as enabled per connection, at most (ENABLE names a few: CONDSTORE, QRESYNC, UTF8=ACCEPT). */
const MAX_ENABLED = 64;

/**
 * What a connection record starts with until it learns otherwise: one frozen empty list shared by every
 * record (they are kept to the end of the capture), replaced by the connection's own when it has some.
 */
const NOTHING_YET: never[] = Object.freeze([]) as never[];

/** The same for an exchange's untagged counts by type: most commands get none (and every open one is held). */
const NO_UNTAGGED: Record<string, number> = Object.freeze({}) as Record<string, number>;

/**
 * An IDLE's times before DONE or a push: shared by every IDLE (a server's idle clients each hold one), replaced by the
 * exchange's own when either comes. In the exchange as it is made, so that every exchange has the same fields: added
 * later, it took a property array of its own too.
 */
const IDLE_BEGUN: NonNullable<Exchange['idle']> = Object.freeze({ doneAt: null, firstPushAt: null });

/**
 * The IMAP state machine of one connection: frames both directions, pairs every tagged command with
 * its continuation requests, untagged data and tagged completion, follows AUTHENTICATE, IDLE,
 * STARTTLS, COMPRESS and LOGOUT, and keeps what the reports need about the connection.
 */
export class ImapSession implements FramerOutput, TransportOutput, WindowWatcher {
  readonly info: ImapConnection;
  /** Each side's framer while it is inside a message (or looking for one after a gap); null between messages. */
  private client: ImapFramer | null = null;
  private server: ImapFramer | null = null;
  /** Outstanding commands in the order they were sent. */
  private readonly pending = new PendingCommands<Outstanding>();
  /**
   * Undefined until the connection's first bytes; then null while it is plain IMAP (the session frames its bytes
   * itself), or what TLS or COMPRESS puts between the wire and the framers once either comes.
   */
  private transport: ConnectionTransport | null | undefined = undefined;
  /** Follows an AUTHENTICATE from the command to its completion (most connections log in otherwise, or not at all). */
  private auth: Authentication | null = null;
  private idling: Outstanding | null = null;
  private odd: Oddities | null = null;
  /**
   * The newest exchange the connection opened, while one of its commands is outstanding; null once all are complete
   * (so an idle connection keeps no finished exchange alive). At the close it is the last of the connection's exchanges
   * to leave the orderer (ExchangeOrderer.ended).
   */
  private newest: Exchange | null = null;

  /**
   * The session is its framers' and its transport's output itself (no closures, no wiring object: every
   * open connection would carry them).
   */
  constructor(conn: Connection, private readonly shared: SessionContext, woken?: ImapConnection) {
    // Woken (ImapSession.woken): the record of the session that rested; it was between messages, not resynchronising.
    this.info = woken ?? {
      conn, greeting: null, user: null, authMechanism: null, authenticated: false, cleartextAuth: false,
      clientId: null, serverId: null, capabilities: NOTHING_YET, enabled: NOTHING_YET, tls: null, compress: null, selected: null,
      commands: 0, mailboxes: NOTHING_YET, unsolicited: 0, undecoded: 0,
    };
    if (woken === undefined && !conn.sawSyn) {
      // The capture began mid-conversation: wait for something that looks like a message start.
      this.framer('client').startResync(conn.firstFrame);
      this.framer('server').startResync(conn.firstFrame);
    }
  }

  /**
   * This session at rest, if it can rest: its first bytes seen, plain IMAP or TLS between records (COMPRESS state is its
   * own), neither side inside a message, no SASL login or SELECT under way, and at most one command outstanding.
   * Otherwise null, and it stays as it is.
   */
  rest(): RestingSession | null {
    if (this.transport === undefined || this.client !== null || this.server !== null) return null;
    if (this.auth !== null || this.selecting !== null || this.pending.length > 1) return null;
    const decryptor = this.transport === null ? null : this.transport.rest();
    if (decryptor === undefined) return null;
    // An IDLE the session idles in is its only outstanding command.
    const waiting = this.pending.first;
    const ex = waiting?.ex ?? null;
    const claim = waiting?.claim ?? null;
    const since = waiting?.clientTurnSince ?? null;
    const idling = this.idling !== null;
    return this.transport === null
      ? new RestingSession(this.info, this.newest, this.odd, ex, claim, since, idling)
      : new RestingTlsSession(this.info, this.newest, this.odd, ex, claim, since, idling, decryptor);
  }

  /**
   * The session that rested as `resting`, as it was, in `shared` (the context every session of its capture shares: the
   * sink that put it to rest keeps it, not each connection): its connection's next bytes, gap or close come to it.
   */
  static woken(resting: RestingSession, shared: SessionContext): ImapSession {
    const session = new ImapSession(resting.info.conn, shared, resting.info);
    // Its first bytes were seen: plain IMAP, or TLS.
    session.transport = resting instanceof RestingTlsSession ? ConnectionTransport.woken(session, resting.decryptor) : null;
    session.newest = resting.newest;
    session.odd = resting.odd;
    if (resting.ex !== null) {
      const waiting = new Outstanding(resting.ex, resting.claim!);
      waiting.clientTurnSince = resting.clientTurnSince;
      session.pending.add(waiting);
      if (resting.idling) session.idling = waiting;
    }
    return session;
  }

  private get events(): SessionEvents {
    return this.shared.events;
  }

  private get recurring(): RecurringValues {
    return this.shared.recurring;
  }

  get keys(): KeyLog | null {
    return this.shared.keys;
  }

  private get oddities(): Oddities {
    return (this.odd ??= new Oddities());
  }

  /** Bytes off the wire, in order (TLS and COMPRESS are undone by the transport). */
  data(side: Side, bytes: Buffer, frame: number, time: TimePoint): void {
    if (this.transport === undefined) {
      // The first bytes tell whether the connection is TLS from its start.
      this.transport = null;
      if (looksLikeTls(bytes)) {
        // TLS from the first byte: the plaintext, if any is decrypted, begins the IMAP stream. Nothing is to be found
        // before it (a capture begun mid-connection made both framers to resynchronise, and kept them).
        this.client = this.server = null;
        this.transported().startTls('implicit', frame);
      }
    }
    if (this.transport) {
      this.transport.data(side, bytes, frame, time);
      return;
    }
    const used = this.imap(side, bytes, frame, time);
    // A message switched the protocol (STARTTLS, COMPRESS): the rest is the transport's.
    if (used < bytes.length) this.transported().data(side, bytes.subarray(used), frame, time);
  }

  gap(side: Side, length: number, frame: number, time: TimePoint): void {
    if (this.transport) this.transport.gap(side, length, frame, time);
    else plainGap(this, side, length, frame, time);
  }

  /** The connection's transport, made when TLS or COMPRESS first comes between the wire and the framers. */
  private transported(): ConnectionTransport {
    return (this.transport ??= new ConnectionTransport(this));
  }

  /**
   * The connection ended: frame what is left, and report every command still without an answer. Returns the newest
   * exchange it opened if a command was outstanding until now (see `newest`), else null.
   */
  close(frame: number, time: TimePoint): Exchange | null {
    this.transport?.end(frame);
    if (this.transport?.dissecting ?? true) {
      this.client?.end(frame, time);
      this.server?.end(frame, time);
    }
    const newest = this.newest;
    for (const p of this.pending.drain()) this.reported(p.ex);
    const unpaired = this.odd?.responsesWithoutRequest ?? 0;
    if (unpaired > 0) {
      this.warn(null, `${unpaired} tagged response(s) had no request in the capture; they were paired by tag alone`);
    }
    return newest;
  }

  /** An exchange opens: the orderer queues it. */
  private opened(ex: Exchange): void {
    this.newest = ex;
    this.events.opened?.(ex, this.info);
  }

  /** An exchange is complete (answered, given up, or cut by the close). */
  private reported(ex: Exchange): void {
    this.events.exchange(ex, this.info);
    if (this.pending.length === 0) this.newest = null;
  }

  // ---- what the framers and the transport call back -------------------------------------------------

  /** A problem on this connection (the warning names it). */
  warn(frame: number | null, message: string): void {
    this.shared.warn({ frame, conn: this.info.conn.id, message });
  }

  literalStart(m: ImapMessage, literal: Literal): LiteralConsumer | null {
    return this.events.literalStart?.(m, literal, this.info) ?? null;
  }

  imap(side: Side, bytes: Buffer, frame: number, time: TimePoint): number {
    const framer = this.framer(side);
    const consumed = framer.push(bytes, frame, time);
    if (framer.between) this.dropFramer(side);
    return consumed;
  }

  imapGap(side: Side, length: number, frame: number, time: TimePoint): void {
    const framer = this.framer(side);
    framer.gap(length, frame, time);
    if (framer.between) this.dropFramer(side);
  }

  /** The side's framer, made when its bytes come: between messages a framer holds nothing, so an idle connection has none. */
  private framer(side: Side): ImapFramer {
    if (side === 'client') return (this.client ??= new ImapFramer(this, this.shared.framing.client));
    return (this.server ??= new ImapFramer(this, this.shared.framing.server));
  }

  private dropFramer(side: Side): void {
    if (side === 'client') this.client = null;
    else this.server = null;
  }

  marker(side: Side | null, frame: number, text: string): void {
    this.events.marker?.(side, frame, text, this.info);
  }

  /** Every framed message. */
  message(m: ImapMessage): void {
    if (m.side === 'client') this.onClientMessage(m);
    else this.onServerMessage(m);
    this.events.message?.(m, this.info);
  }

  // ---- client side -------------------------------------------------------------------------------

  private onClientMessage(m: ImapMessage): void {
    const line = m.lines[0] ?? '';
    const answering = this.auth?.answering;
    if (answering) {
      // A SASL response (base64), or "*" to cancel: never a command, and never shown in clear.
      this.auth!.steps.clientStep(line);
      answering.ex.requestBytes += m.wireBytes;
      clientAnswered(answering, m.end);
      m.redacted = line === '*' ? '*' : '*** (SASL response)';
      return;
    }
    if (line.toUpperCase() === 'DONE' && m.literals.length === 0) {
      if (this.idling) {
        this.idling.ex.requestBytes += m.wireBytes;
        const { ex } = this.idling;
        if (ex.idle) ex.idle = { doneAt: m.end, firstPushAt: ex.idle.firstPushAt };
        clientAnswered(this.idling, m.end);
      }
      this.idling = null;
      return; // DONE of an IDLE (possibly one begun before the capture started)
    }
    if (m.damaged && line.trim() === '') return;
    const cmd = parseCommand(m);
    if (!cmd.tag || !cmd.name) return;
    if (!KNOWN_COMMANDS.has(cmd.name.replace(/^UID /, '')) && cmd.malformed) {
      this.warn(m.firstFrame, `unrecognised client line: ${line.slice(0, 80)}`);
    }
    if (this.pending.hasTag(cmd.tag)) {
      this.warn(m.firstFrame, `tag ${cmd.tag} reused while a command with that tag is still outstanding`);
    }
    const early = this.odd;
    const ex: Exchange = {
      conn: this.info.conn.id, tag: this.recurring.tag(cmd.tag), command: cmd.name, args: cmd.display, argsClear: cmd.displayClear, shape: commandShape(cmd),
      requestMissing: false, requestFrame: m.firstFrame, start: m.start, status: null, code: null, text: '',
      responseFrame: null, end: null, untagged: 0, untaggedByType: NO_UNTAGGED, continuations: early?.earlyContinuations ?? 0,
      continuationAt: early?.earlyContinuationAt ?? null, clientMs: 0, idle: cmd.name === 'IDLE' ? IDLE_BEGUN : undefined,
      requestBytes: m.wireBytes, responseBytes: 0, mailbox: this.info.selected?.name ?? null,
    };
    // The server said "+" while the literal was on its way: from then on the upload was the client's time.
    if (early?.earlyContinuationAt) {
      ex.clientMs += milliseconds(early.earlyContinuationAt, m.end);
      early.earlyContinuations = 0;
      early.earlyContinuationAt = null;
    }
    if (cmd.display !== cmd.displayClear) m.redacted = `${cmd.tag} ${cmd.name} ${cmd.display}`;
    this.info.commands++;
    const evicted = this.pending.add(new Outstanding(ex, claimOf(cmd)));
    this.opened(ex);
    if (evicted) this.giveUp(evicted, m.firstFrame);
    for (let shed = this.pending.shed(); shed !== undefined; shed = this.pending.shed()) this.giveUp(shed, m.firstFrame, 'held');
    this.commandSent(cmd);
  }

  private commandSent(cmd: Command): void {
    switch (cmd.name) {
      case 'LOGIN':
        this.info.authMechanism = 'LOGIN';
        if (cmd.user !== null) this.info.user = this.recurring.text(cmd.user);
        if (!this.info.tls) this.info.cleartextAuth = true;
        break;
      case 'AUTHENTICATE':
        this.info.authMechanism = cmd.mechanism;
        this.auth = new Authentication();
        this.auth.steps.start(cmd.mechanism ?? '', cmd.initialResponse);
        if (!this.info.tls && this.auth.steps.cleartext) this.info.cleartextAuth = true;
        this.noteSaslUser();
        break;
      case 'ID':
        this.info.clientId = idParams(cmd.args[0]);
        break;
      case 'SELECT':
      case 'EXAMINE':
        this.selecting = cmd.mailbox === null ? null : emptyMailbox(this.recurring.text(decodeMailboxName(cmd.mailbox)));
        break;
      default:
        break;
    }
  }

  // ---- server side -------------------------------------------------------------------------------

  private onServerMessage(m: ImapMessage): void {
    if (m.instalment !== undefined && m.instalment.index > 0) return this.onFetchContinued(m, m.instalment.last);
    const r = parseResponse(m, this.shared.nestedListsOnDemand);
    switch (r.kind) {
      case 'continuation': return this.onContinuation(r.text, m);
      case 'tagged': return this.onTagged(r, m);
      default: return this.onUntagged(r, m);
    }
  }

  private onContinuation(text: string, m: ImapMessage): void {
    if (this.client?.midMessage) {
      // "+" for a synchronizing literal of a command the client is still sending.
      const early = this.oddities;
      early.earlyContinuations++;
      early.earlyContinuationAt ??= m.end;
      return;
    }
    const target = this.authenticatingCandidate() ?? this.idleCandidate() ?? this.pending.last;
    if (!target) return;
    const ex = target.ex;
    ex.continuations++;
    ex.continuationAt ??= m.end;
    ex.responseBytes += m.wireBytes;
    serverAnswered(target, m.end);
    target.clientTurnSince = m.end;
    if (ex.command === 'AUTHENTICATE') {
      const auth = (this.auth ??= new Authentication());
      auth.answering = target;
      auth.steps.serverStep(text);
      this.noteSaslUser();
    } else if (ex.command === 'IDLE') {
      this.idling = target;
    }
  }

  /**
   * The AUTHENTICATE or IDLE a continuation request answers is among the newest commands (a client sends none after
   * either), so only ATTRIBUTION_WINDOW of them are looked at: a million "+" lines behind 4,096 outstanding commands
   * were each a scan of all of them.
   */
  private authenticatingCandidate(): Outstanding | undefined {
    return this.auth?.answering ?? this.pending.findRecent(isAuthenticate, ATTRIBUTION_WINDOW);
  }

  private idleCandidate(): Outstanding | undefined {
    return this.pending.findRecent(isIdle, ATTRIBUTION_WINDOW);
  }

  private onTagged(r: Extract<Response, { kind: 'tagged' }>, m: ImapMessage): void {
    const client = this.client;
    // A refused synchronizing literal: the client will not send its octets, so its command ends here.
    if (r.status !== 'OK' && client?.inLiteral && client.currentTag() === r.tag) client.abandonLiteral();
    // The oldest command with the tag: a reused tag answers the command sent first.
    const done = this.pending.takeByTag(r.tag);
    let ex: Exchange;
    if (!done) {
      ex = this.responseOnly(r);
      this.opened(ex);
    } else {
      ex = done.ex;
      serverAnswered(done, m.end);
    }
    ex.status = r.status;
    ex.code = r.code ? (r.code.text ? `${r.code.name} ${r.code.text}` : r.code.name) : null;
    ex.text = r.text;
    ex.responseFrame = m.lastFrame;
    ex.end = m.end;
    ex.responseBytes += m.wireBytes;
    if (r.code) this.responseCode(r.code.name, r.code.text);
    this.completed(ex, r.status);
    this.reported(ex);
  }

  /** Too many commands outstanding, or too much of their text: the oldest is reported unanswered, so memory stays bounded. */
  private giveUp(p: Outstanding, frame: number, cap: 'count' | 'held' = 'count'): void {
    const odd = this.oddities;
    const then = 'the oldest are reported without an answer, and an answer that comes later is reported on its own';
    if (cap === 'count' && !odd.pendingOverflowWarned) {
      odd.pendingOverflowWarned = true;
      this.warn(frame, `more than ${MAX_PENDING_COMMANDS} commands outstanding at once (the cap): ${then}`);
    } else if (cap === 'held' && !odd.pendingHeldWarned) {
      odd.pendingHeldWarned = true;
      this.warn(frame, `the commands outstanding at once keep more than ${MAX_PENDING_HELD} characters of text (the cap): ${then}`);
    }
    if (this.auth?.answering === p) this.auth.answering = null;
    if (this.idling === p) this.idling = null;
    this.reported(p.ex);
  }

  /**
   * `* ENABLED …`: the extensions are added to the connection's list once each, up to MAX_ENABLED. Each response made
   * the list anew with every name repeated, so that 100,000 of them took 113 s.
   */
  private enabled(values: Value[], frame: number): void {
    const before = this.info.enabled;
    let list: string[] | null = null;
    for (const v of values) {
      const name = stringOf(v);
      if (!name || (list ?? before).some((x) => x.toUpperCase() === name.toUpperCase())) continue;
      if ((list ?? before).length >= MAX_ENABLED) {
        if (!this.oddities.enabledCapWarned) {
          this.oddities.enabledCapWarned = true;
          this.warn(frame, `more than ${MAX_ENABLED} extensions enabled (the cap): the others are not listed`);
        }
        break;
      }
      (list ??= [...before]).push(name);
    }
    if (list) this.info.enabled = this.recurring.list(list);
  }

  /** More commands were outstanding than untagged responses are matched against, and none of the oldest took one. */
  attributionWindowPassed(frame: number): void {
    if (this.oddities.attributionWindowWarned) return;
    this.oddities.attributionWindowWarned = true;
    this.warn(frame, `more than ${ATTRIBUTION_WINDOW} commands outstanding (the cap on those an untagged response is matched against): a response none of the oldest ${ATTRIBUTION_WINDOW} takes goes to the oldest`);
  }

  /** A tagged response whose command the capture does not hold (mid-stream or server-only capture). */
  private responseOnly(r: Extract<Response, { kind: 'tagged' }>): Exchange {
    this.oddities.responsesWithoutRequest++;
    // Servers usually name the command in the text ("LOGIN completed"): use that, marked as inferred.
    const named = /^([A-Za-z]+)/.exec(r.text)?.[1]?.toUpperCase();
    const command = named && KNOWN_COMMANDS.has(named) ? named : '?';
    return {
      conn: this.info.conn.id, tag: this.recurring.tag(r.tag), command, args: '', argsClear: '', shape: command, requestMissing: true,
      requestFrame: null, start: null, status: null, code: null, text: '', responseFrame: null, end: null,
      untagged: 0, untaggedByType: NO_UNTAGGED, continuations: 0, continuationAt: null, clientMs: 0, idle: undefined, requestBytes: 0,
      responseBytes: 0, mailbox: this.info.selected?.name ?? null,
    };
  }

  /** State changes a completed command makes. */
  private completed(ex: Exchange, status: string): void {
    const ok = status === 'OK';
    if (this.auth && (this.auth.answering?.ex === ex || ex.command === 'AUTHENTICATE')) {
      this.noteSaslUser();
      // Its steps are done with (the user is noted): kept only for another AUTHENTICATE still outstanding.
      if (this.pending.find(isAuthenticate)) this.auth.answering = null;
      else this.auth = null;
    }
    if (this.idling?.ex === ex) this.idling = null;
    switch (ex.command) {
      case 'LOGIN':
      case 'AUTHENTICATE':
        if (ok) this.info.authenticated = true;
        break;
      case 'SELECT':
      case 'EXAMINE': {
        if (ok && this.selecting) {
          this.info.selected = { ...this.selecting, readOnly: ex.command === 'EXAMINE' || ex.code === 'READ-ONLY' };
        } else if (!ok) {
          this.info.selected = null;
        }
        this.selecting = null;
        break;
      }
      case 'CLOSE':
      case 'UNSELECT':
        if (ok) this.info.selected = null;
        break;
      case 'STARTTLS':
        if (ok) {
          // Commands the client sent after STARTTLS, before the handshake, were never protected by it.
          const early = this.pending.list.filter((p) => (p.ex.requestFrame ?? 0) >= (ex.requestFrame ?? 0));
          const injected = early.length > 0 || this.client?.midMessage === true;
          this.switchProtocol(() => this.transported().startTls('starttls', ex.responseFrame ?? 0));
          if (injected) {
            this.info.tls!.injectedBeforeTls = true;
            this.warn(ex.responseFrame, `the client sent data after STARTTLS before the TLS handshake (${early.map((p) => p.ex.tag).join(', ') || 'a partial line'}): a command-injection pattern`);
          }
        }
        break;
      case 'COMPRESS':
        if (ok) this.switchProtocol(() => this.transported().startCompression(ex.responseFrame ?? 0));
        break;
      default:
        break;
    }
  }

  /** The type an untagged response is counted as: its own, or past the cap on invented ones, theirs together. */
  private responseType(r: Response, frame: number): string {
    const own = r.kind === 'numbered' || r.kind === 'data' ? r.type : r.kind === 'untagged-status' ? r.status : UNKNOWN_RESPONSE;
    const types = this.shared.responseTypes;
    const type = types.row(own);
    if (types.firstPooled(type)) this.warn(frame, otherResponsesWarning(own));
    return type;
  }

  private onUntagged(r: Response, m: ImapMessage): void {
    if (!this.info.greeting && this.info.commands === 0 && r.kind === 'untagged-status' && this.pending.length === 0) {
      this.info.greeting = { status: this.recurring.text(r.status), text: this.recurring.text(r.text), frame: m.firstFrame };
      if (r.status === 'PREAUTH') this.info.authenticated = true;
      if (r.code) this.responseCode(r.code.name, r.code.text);
      return;
    }
    // While idling, everything is a push for the IDLE; otherwise the attribution rule decides.
    const owner = (this.idling ?? attribute(r, this.pending, this, m.firstFrame))?.ex;
    const type = owner ? this.responseType(r, m.firstFrame) : '';
    if (owner) {
      if (owner.idle && owner.idle.firstPushAt === null && this.idling && r.kind !== 'untagged-status') { // not keep-alives
        owner.idle = { doneAt: owner.idle.doneAt, firstPushAt: m.end };
      }
      owner.untagged++;
      if (owner.untaggedByType === NO_UNTAGGED) owner.untaggedByType = {};
      owner.untaggedByType[type] = (owner.untaggedByType[type] ?? 0) + 1;
      owner.responseBytes += m.wireBytes;
    } else {
      this.info.unsolicited++;
    }
    if (m.instalment?.last === false && r.kind === 'numbered') this.oddities.continuing = { number: r.number, owner: owner ?? null };
    this.untaggedData(r, m.firstFrame);
    this.events.untagged?.(r, m, owner ?? null, this.info);
  }

  /**
   * A later instalment of a long FETCH response: it goes where the first went, and counts as no response of its own
   * (the first did), only its octets do.
   */
  private onFetchContinued(m: ImapMessage, last: boolean): void {
    const series = this.odd?.continuing;
    if (!series) return; // the framer hands on the first instalment first: not reached
    if (last) this.odd!.continuing = null;
    if (series.owner) series.owner.responseBytes += m.wireBytes;
    this.events.untagged?.(continuedFetch(series.number, m, this.shared.nestedListsOnDemand), m, series.owner, this.info);
  }

  /** What untagged data tells us about the connection and the selected mailbox. */
  private untaggedData(r: Response, frame: number): void {
    const box = this.selecting ?? this.info.selected;
    if (r.kind === 'untagged-status') {
      if (r.code) this.responseCode(r.code.name, r.code.text);
      return;
    }
    if (r.kind === 'numbered') {
      if (box && r.type === 'EXISTS') box.exists = r.number;
      if (box && r.type === 'RECENT') box.recent = r.number;
      if (box && r.type === 'EXPUNGE' && box.exists !== null) box.exists = Math.max(0, box.exists - 1);
      return;
    }
    if (r.kind !== 'data') return;
    switch (r.type) {
      case 'CAPABILITY':
        this.info.capabilities = this.recurring.list(r.values.map((v) => stringOf(v) ?? '').filter(Boolean));
        break;
      case 'ID':
        this.info.serverId = idParams(r.values[0]);
        break;
      case 'ENABLED':
        this.enabled(r.values, frame);
        break;
      case 'FLAGS':
        if (box && r.values[0]?.kind === 'list') box.flags = this.recurring.list(r.values[0].items.map((v) => stringOf(v) ?? ''));
        break;
      case 'LIST':
      case 'LSUB':
      case 'XLIST':
        this.listed(r.values);
        break;
      default:
        break;
    }
  }

  /** `* LIST (\\HasNoChildren \\Sent) "/" "Sent"`: remember the mailbox once (bounded). */
  private listed(values: Value[]): void {
    const [flags, delimiter, name] = values;
    const raw = stringOf(name);
    if (raw === null || this.info.mailboxes.length >= MAX_MAILBOXES) return;
    const decoded = decodeMailboxName(raw);
    if (this.info.mailboxes.some((m) => m.name === decoded)) return;
    const kept = this.recurring;
    const separator = stringOf(delimiter);
    if (this.info.mailboxes === NOTHING_YET) this.info.mailboxes = [];
    this.info.mailboxes.push({
      name: kept.text(decoded),
      delimiter: separator === null ? null : kept.text(separator),
      flags: kept.list(flags?.kind === 'list' ? flags.items.map((v) => stringOf(v) ?? '').filter(Boolean) : []),
    });
  }

  private responseCode(name: string, text: string): void {
    const box = this.selecting ?? this.info.selected;
    switch (name) {
      case 'CAPABILITY':
        this.info.capabilities = this.recurring.words(text);
        break;
      case 'UIDVALIDITY':
        if (box) box.uidValidity = uint32(text);
        break;
      case 'UIDNEXT':
        if (box) box.uidNext = uint32(text);
        break;
      default:
        break;
    }
  }

  // SELECT/EXAMINE: the mailbox (named by the command) builds up its state from untagged data before the tagged OK.
  private selecting: ImapConnection['selected'] = null;

  /** After the message being framed, the bytes change (TLS or compression): the framers stop there. */
  private switchProtocol(start: () => void): void {
    this.client?.yieldAfterMessage();
    this.server?.yieldAfterMessage();
    start();
  }

  private noteSaslUser(): void {
    const user = this.auth?.steps.user();
    if (user) this.info.user = this.recurring.text(user);
  }
}

function isAuthenticate(p: Outstanding): boolean {
  return p.ex.command === 'AUTHENTICATE';
}

function isIdle(p: Outstanding): boolean {
  return p.ex.command === 'IDLE';
}

/** The client's turn ended (it sent a SASL response, DONE): that time was not the server's. */
function clientAnswered(p: Outstanding, at: TimePoint): void {
  if (!p.clientTurnSince) return;
  p.ex.clientMs += milliseconds(p.clientTurnSince, at);
  p.clientTurnSince = null;
}

/**
 * The server spoke ("+" or the tagged completion) while the turn was still the client's: a client that
 * sends nothing more (a refused literal, a cancelled SASL step) hands the turn back only implicitly.
 */
function serverAnswered(p: Outstanding, at: TimePoint): void {
  if (p.clientTurnSince && p.ex.command !== 'IDLE') clientAnswered(p, at);
}

function milliseconds(from: TimePoint, to: TimePoint): number {
  return Math.max(0, secondsBetween(from, to) * 1000);
}

function emptyMailbox(name: string): NonNullable<ImapConnection['selected']> {
  return { name, readOnly: false, exists: null, recent: null, uidValidity: null, uidNext: null, flags: NOTHING_YET };
}

/** ID parameters: a list of field/value pairs, or NIL. */
function idParams(v: Value | undefined): Record<string, string | null> | null {
  if (!v || v.kind !== 'list') return null;
  const out: Record<string, string | null> = {};
  for (let i = 0; i + 1 < v.items.length; i += 2) {
    const key = stringOf(v.items[i]);
    if (key !== null) out[key.toLowerCase()] = stringOf(v.items[i + 1]);
  }
  return out;
}

/** An IMAP nz-number / 32-bit value, or null for anything else (Number() would give NaN). */
function uint32(text: string): number | null {
  return /^\d{1,10}$/.test(text) && Number(text) < 2 ** 32 ? Number(text) : null;
}
