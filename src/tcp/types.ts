/** Which side of a connection bytes came from. */
export type Side = 'client' | 'server';

export interface Endpoint {
  ip: string;
  port: number;
}

export type EndState = 'open' | 'closed' | 'reset';

export interface DirectionStats {
  bytes: number;
  gaps: number;
  gapBytes: number;
}

/** A TCP connection on an IMAP port. */
export interface Connection {
  /** 0-based, in order of first appearance among all TCP conversations: equals Wireshark's tcp.stream. */
  id: number;
  client: Endpoint;
  server: Endpoint;
  firstFrame: number;
  lastFrame: number;
  start: TimePoint;
  end: TimePoint;
  /** True when the capture holds the handshake (SYN); false for captures that start mid-stream. */
  sawSyn: boolean;
  state: EndState;
  /** Bytes and gaps of each direction: written at the close (while the connection is open they read zero). */
  stats: Record<Side, DirectionStats>;
}

export interface TimePoint {
  sec: number;
  nsec: number;
  digits: number;
}

/**
 * What the reassembler tells the next layer. Each connection gets open first, then data and gaps of both
 * directions in capture order, then close exactly once (at the FIN/RST or at end of input).
 * What open returns (the sink's own state for the connection, e.g. its IMAP session) is handed back with
 * every later call for that connection, so that a sink needs no table of open connections of its own. A state that
 * data or gap returns takes its place from then on: a sink may make its state at a connection's first byte (a
 * port scan's or a SYN flood's conversations never carry one).
 */
export interface StreamSink<S = void> {
  open(conn: Connection): S;
  /** In-order bytes; `bytes` is only valid during the call. `frame` is the frame that completed them. */
  data(conn: Connection, side: Side, bytes: Buffer, frame: number, time: TimePoint, state: S): S | void;
  /** `length` bytes of this direction will never be seen (lost, cut by snaplen, before the capture). */
  gap(conn: Connection, side: Side, length: number, frame: number, time: TimePoint, state: S): S | void;
  close(conn: Connection, reason: EndState | 'end-of-capture', state: S): void;
  /**
   * The connection went quiet: a direction's bytes were all acknowledged ACKNOWLEDGED_HOLD_SECONDS ago, and it gave
   * back what it kept to check retransmissions. A state returned takes the place of `state`, as data's does: a sink
   * may keep a quiet connection's state in a smaller form, to be unfolded at its next data, gap or close.
   */
  rest?(conn: Connection, state: S): S | void;
  /**
   * What segments after a connection's close (the last ACKs, a retransmitted FIN) changed in its record, once they no
   * longer can: its conversation left the index (a later segment of its 4-tuple starts a new one), or the input ended
   * (a connection the end of input closes: right after its close; then every connection still indexed). Everything
   * else in a record is final at its close.
   */
  retired?(late: LateChanges): void;
}

/** The part of a closed connection's record that later segments of its conversation still move. */
export interface LateChanges {
  readonly id: number;
  readonly lastFrame: number;
  readonly end: TimePoint;
}
