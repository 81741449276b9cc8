import type { CaptureInfo, Warning } from '../capture/types.js';
import { WarningList } from './warning-list.js';
import type { CaptureInput } from '../capture/reader.js';
import type { Exchange, ImapConnection } from '../imap/model.js';
import { ImapSession, RestingSession, SessionContext, type SessionEvents } from '../imap/session.js';
import { RecurringValues } from '../imap/recurring.js';
import { DEFAULT_FRAMER_LIMITS, type FramerLimits } from '../imap/framer.js';
import { KeyLog } from '../tls/keylog.js';
import type { ImapMessage, Literal, LiteralConsumer } from '../imap/types.js';
import type { Response } from '../imap/response.js';
import { streamCapture, type PipelineOptions } from '../pipeline.js';
import type { Connection, LateChanges, Side, StreamSink } from '../tcp/types.js';
import { DEFAULT_PORTS, type TcpOverview } from '../tcp/tracker.js';
import { VisibilityTally, type Visibility } from './visibility.js';
import { CommandStats } from './stats.js';
import { otherCommandsWarning } from './command-rows.js';
import { TurnStats } from './turns.js';
import { ExchangeOrderer } from './orderer.js';
import { LetGoWarnings } from './order-warnings.js';

export interface AnalyzeOptions extends PipelineOptions {
  /** Literals up to this many octets are kept for parsing (default 16 KiB: headers, not bodies; bodies stream). */
  keepLiteral?: number;
  /**
   * Caps of the IMAP framer set lower than DEFAULT_FRAMER_LIMITS, by tests and the fuzzer: the size of a FETCH
   * response's instalments (ImapMessage.instalment), what one message keeps (ImapMessage.elided).
   */
  framerLimits?: Partial<FramerLimits>;
  /**
   * Read the lists inside a response's lists (a FETCH response's BODYSTRUCTURE, ENVELOPE, FLAGS) only when someone looks
   * into them: for a caller that reads FETCH responses for their item names (compare), which then steps over most of
   * their tokens. One that reads every structure (fetches, report) is faster without: it would step over each first.
   */
  nestedListsOnDemand?: boolean;
  /** Where the capture's warnings are collected (default: a list of its own), for a caller that adds its own to them. */
  warnings?: WarningList;
  /** Keep every exchange in the result (the library API and small captures); reporters that stream leave it off. */
  keepExchanges?: boolean;
  /**
   * Keep every connection's record in the result (default). A reader that streams exchanges and never
   * looks at the records afterwards turns it off, and then memory no longer grows with the number of
   * connections that have ended (visibility is still counted).
   */
  keepConnections?: boolean;
  /**
   * Called with each connection's record when the connection closes (or the input ends). Everything in it is final then
   * but its last frame and end, which the last ACKs still move while its conversation lingers in the TCP index:
   * onConnectionSettled gives them once they are final. A view that writes a row per connection writes it here and
   * holds no record.
   */
  onConnectionClose?(conn: ImapConnection): void;
  /**
   * Called with a connection's record once it ended and each of its exchanges has gone to onExchange (later than
   * onConnectionClose when an exchange of another connection, opened earlier, is not complete yet).
   */
  onConnectionDrained?(conn: ImapConnection): void;
  /** A closed connection's last frame and end are final (its conversation left the TCP index, or the input ended). */
  onConnectionSettled?(late: LateChanges): void;
  /**
   * Gather the per-command statistics and turns (default): latencies are kept per exchange (8 bytes each) for exact
   * percentiles. A view that never reads them (commands, fetches, extract) turns it off; they are then empty.
   */
  statistics?: boolean;
  /** Called with each exchange in request order, as soon as it and every earlier one are complete. */
  onExchange?(ex: Exchange, conn: ImapConnection): void;
  /** Only connections this predicate accepts get IMAP dissection (follow --conn). */
  connections?(conn: Connection): boolean;
  /** Transcript hooks. */
  onMessage?(msg: ImapMessage, conn: ImapConnection): void;
  onMarker?(side: Side | null, frame: number, text: string, conn: ImapConnection): void;
  onLiteralStart?(msg: ImapMessage, literal: Literal, conn: ImapConnection): LiteralConsumer | null;
  onUntagged?(r: Response, msg: ImapMessage, owner: Exchange | null, conn: ImapConnection): void;
}

/** A connection to dissect that has carried no byte yet: its session is made when one comes (sessionSink). */
const NOT_STARTED = 'not started';

/** What the tracker holds for a connection: its session (at rest while quiet), NOT_STARTED, or null for one not dissected. */
export type SessionSlot = ImapSession | RestingSession | typeof NOT_STARTED | null;

export interface SessionSinkHooks {
  /** Only connections this accepts are dissected (all, without it). */
  accepts?(conn: Connection): boolean;
  /** Make each session when its connection opens, rather than at its first byte, gap or close. */
  atOpen: boolean;
  /** A session was made. */
  started(info: ImapConnection): void;
  /** A connection's session closed; `newest` as ImapSession.close returns it. */
  closed(info: ImapConnection, newest: Exchange | null, conn: Connection): void;
}

/**
 * The tracker's sink for the analysis: a session per connection, which is the tracker's state for it (no table of open
 * sessions here). Unless `atOpen`, a session is made at the connection's first byte or gap, or at its close if it
 * carried none: until then the connection holds no session (a port scan's or a SYN flood's conversations never carry
 * a byte, and a session and its record cost about 330 bytes). While the connection is quiet its session may rest
 * (RestingSession), and it is woken at the connection's next bytes, gap or close.
 */
export function sessionSink(shared: SessionContext, hooks: SessionSinkHooks): StreamSink<SessionSlot> {
  const start = (conn: Connection): ImapSession => {
    const session = new ImapSession(conn, shared);
    hooks.started(session.info);
    return session;
  };
  const awake = (conn: Connection, slot: SessionSlot): ImapSession | null => {
    if (slot === NOT_STARTED) return start(conn);
    return slot instanceof RestingSession ? ImapSession.woken(slot, shared) : slot;
  };
  // data and gap hand the tracker a state only when it replaces what it held: no store per call after that.
  return {
    open(conn) {
      if (hooks.accepts && !hooks.accepts(conn)) return null;
      return hooks.atOpen ? start(conn) : NOT_STARTED;
    },
    data(conn, side, bytes, frame, time, slot) {
      const session = awake(conn, slot);
      session?.data(side, bytes, frame, time);
      if (session !== slot) return session;
    },
    gap(conn, side, length, frame, time, slot) {
      const session = awake(conn, slot);
      session?.gap(side, length, frame, time);
      if (session !== slot) return session;
    },
    close(conn, _reason, slot) {
      const session = awake(conn, slot);
      if (!session) return;
      hooks.closed(session.info, session.close(conn.lastFrame, conn.end), conn);
    },
    // A quiet connection's session rests in one object, if it can (200,000 idle mail clients held three each).
    rest(_conn, slot) {
      if (slot instanceof ImapSession) return slot.rest() ?? undefined;
    },
  };
}

/** The analysis model every reporter reads. */
export interface CaptureAnalysis {
  capture: CaptureInfo;
  /** Every IMAP connection's record, in the order they opened; empty when keepConnections was turned off. */
  connections: ImapConnection[];
  /** Present when keepExchanges was asked for. */
  exchanges: Exchange[] | null;
  commandStats: CommandStats;
  /** TCP conversations of any kind, and the server ports they used (to explain a capture without IMAP). */
  tcp: TcpOverview;
  /** How much of the IMAP traffic could be read (TLS without keys, no IMAP on the ports): say it first. */
  visibility: Visibility;
  /** IDLE periods, and the client's share of APPEND and AUTHENTICATE. */
  turnStats: TurnStats;
  warnings: Warning[];
}

/**
 * One streaming pass over a capture through the whole pipeline. Connection records are kept (they are
 * bounded by the number of connections); exchanges stream out through onExchange and are kept only
 * on request.
 */
export async function analyzeCapture(path: CaptureInput, options: AnalyzeOptions = {}): Promise<CaptureAnalysis> {
  const warnings = options.warnings ?? new WarningList();
  const warn = warnings.add;
  const connections: ImapConnection[] = [];
  const keepConnections = options.keepConnections ?? true;
  const seen = new VisibilityTally();
  const exchanges: Exchange[] | null = options.keepExchanges ? [] : null;
  const stats = new CommandStats();
  const turns = new TurnStats();
  // One key log for the run: --keylog files plus whatever the capture embeds (read as it streams).
  const keys = options.keys ?? new KeyLog();

  const statistics = options.statistics ?? true;
  const letGo = new LetGoWarnings(warn);
  const orderer = new ExchangeOrderer<ImapConnection>((ex, info) => {
    if (statistics) {
      if (stats.add(ex)) warn({ frame: ex.requestFrame, conn: ex.conn, message: otherCommandsWarning(ex.command) });
      turns.add(ex);
    }
    exchanges?.push(ex);
    options.onExchange?.(ex, info);
  }, letGo.letGo,
  (info) => {
    if (statistics) turns.drained(info.conn.id);
    options.onConnectionDrained?.(info);
  });

  const events: SessionEvents = {
    opened: (ex, info) => orderer.opened(ex, info),
    exchange: (ex) => orderer.completed(ex),
    message: options.onMessage,
    marker: options.onMarker,
    literalStart: options.onLiteralStart,
    untagged: options.onUntagged,
  };

  // One options object for every session: an open connection should not carry its own copy.
  const shared = new SessionContext(events, warn, { limits: { ...DEFAULT_FRAMER_LIMITS, keepLiteral: options.keepLiteral ?? 16 * 1024, ...options.framerLimits }, keys, recurring: new RecurringValues(), nestedListsOnDemand: options.nestedListsOnDemand });
  const sink: StreamSink<SessionSlot> = {
    ...sessionSink(shared, {
      accepts: options.connections,
      // The records, when kept, are listed in the order the connections opened: their sessions are made then.
      atOpen: keepConnections,
      started: (info) => { if (keepConnections) connections.push(info); },
      closed: (info, newest, conn) => {
        seen.add(info);
        options.onConnectionClose?.(info);
        // The statistics let go of what they wait for from a connection once it has no more exchanges (TurnStats).
        if (options.onConnectionDrained || statistics) orderer.ended(info, newest, conn.lastFrame);
      },
    }),
    retired: options.onConnectionSettled,
  };

  // The tracker closes every connection still open at the end of the input (a read cut short included).
  const { info, tcp } = await streamCapture(path, sink, warn, { ...options, keys });
  orderer.flush();
  letGo.end();
  const visible = seen.visibility(tcp, options.ports ?? DEFAULT_PORTS, keys.size > 0);
  return { capture: info, tcp, visibility: visible, connections, exchanges, commandStats: stats, turnStats: turns, warnings: warnings.result() };
}

