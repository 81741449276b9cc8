import type { Side, TimePoint } from '../tcp/types.js';

/** A literal's octets as far as the capture holds them. Large literals are counted, not kept. */
export interface Literal {
  /** Announced length ({n}). */
  length: number;
  /** Bytes actually seen; less than `length` when a gap or the end of the capture cut it. */
  received: number;
  /** The octets, when length ≤ the keep limit and nothing was lost; otherwise null. */
  data: Buffer | null;
  /** {n+} or {n-}: the client did not wait for a continuation request. */
  nonSync: boolean;
  /** ~{n}: RFC 3516 binary literal. */
  binary: boolean;
  /** A synchronizing literal the server refused (tagged NO/BAD instead of "+"): its octets were never sent. */
  refused?: boolean;
  /** SHA-256 (hex) of the octets, when a consumer hashed them as they streamed past and none was lost. */
  sha256?: string;
}

/** Receives a literal's octets as they stream past, so large ones never need to sit in memory. */
export interface LiteralConsumer {
  /** Left out by a consumer that reads a kept literal's `data` at end(): then no view is made of each piece. */
  write?(chunk: Buffer): void;
  /** `complete` is false when a gap or the end of the stream cut the literal. */
  end(complete: boolean): void;
}

/**
 * One IMAP command or response as framed off the wire: line pieces with the literals between them.
 * `lines[i]` is followed by `literals[i]`; there is always one line more than literals. Lines are
 * latin1-decoded (lossless: one char per byte) without their CRLF.
 */
export interface ImapMessage {
  side: Side;
  lines: string[];
  literals: Literal[];
  firstFrame: number;
  lastFrame: number;
  start: TimePoint;
  end: TimePoint;
  /** The message was cut: by a gap, by the line cap or by the end of the capture. */
  damaged: boolean;
  /** Total octets on the wire (lines, CRLFs and literals). */
  wireBytes: number;
  /** Set by the session when the message carries credentials: how to show it without them. */
  redacted?: string;
  /**
   * Set when the message is part of a long FETCH response, handed on in instalments so that it is never held whole
   * (FramerLimits.instalmentLiterals): each instalment but the last ends after a literal that is one of the response's
   * items, and each after the first continues the attribute list.
   */
  instalment?: Instalment;
  /**
   * Set when the message outgrew the caps on what one message keeps (FramerLimits.maxLiterals, maxHeldOctets): the
   * line pieces and literals read after that were counted, not kept. `lines` and `literals` hold those before them,
   * and the message's last line.
   */
  elided?: { literals: number; octets: number };
}

export interface Instalment {
  /** The response's first line (the first instalment's). */
  head: string;
  /** 0 for the first instalment. */
  index: number;
  last: boolean;
}

export type Status = 'OK' | 'NO' | 'BAD';
