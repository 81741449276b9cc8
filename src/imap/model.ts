import type { Connection, TimePoint } from '../tcp/types.js';
import type { Status } from './types.js';

/** One tagged command with everything the server said about it. */
export interface Exchange {
  conn: number;
  tag: string | null;
  /** Upper case with the UID prefix kept ("UID FETCH"). For a response whose request the capture lacks, the command the response text names, or "?". */
  command: string;
  /** Arguments for display, credentials redacted. */
  args: string;
  /** Arguments with nothing redacted (only shown with --show-secrets). */
  argsClear: string;
  /** The command with tags, users, secrets, UID sets, dates and literal contents abstracted (for compare). */
  shape: string;
  /** The request was not in the capture: paired by tag alone. */
  requestMissing: boolean;
  requestFrame: number | null;
  start: TimePoint | null;
  status: Status | null;
  /** Response code of the tagged completion, e.g. "READ-WRITE" or "UIDVALIDITY 3857529045". */
  code: string | null;
  text: string;
  responseFrame: number | null;
  end: TimePoint | null;
  /** Untagged responses that belong to this command, in total and by type (EXISTS, FETCH, LIST, …). */
  untagged: number;
  untaggedByType: Record<string, number>;
  /** Continuation requests ("+") the server sent for it (literals, SASL steps, IDLE). */
  continuations: number;
  /** When the server's first continuation request arrived ("+ idling", "+ Ready for literal data", a SASL challenge). */
  continuationAt: TimePoint | null;
  /**
   * Milliseconds in which the turn was the client's — uploading literals after "+", answering SASL
   * challenges, idling until DONE — and so not part of the command's latency.
   */
  clientMs: number;
  /** IDLE only: when the client sent DONE, and when the server first pushed something while idling. */
  idle?: { doneAt: TimePoint | null; firstPushAt: TimePoint | null };
  requestBytes: number;
  responseBytes: number;
  /** Mailbox selected when the command was sent (modified UTF-7 decoded), or null. */
  mailbox: string | null;
}

export interface TlsInfo {
  /** 'implicit': the connection began with TLS (IMAPS); 'starttls': after a STARTTLS OK. */
  how: 'implicit' | 'starttls';
  frame: number;
  version: string | null;
  sni: string | null;
  cipher: string | null;
  /** Application data was decrypted with a key log, and dissected as IMAP. */
  decrypted: boolean;
  /** Why it was not (no key for this session, unsupported cipher, …), when a key log was given. */
  decryptionNote: string | null;
  /** The client sent data after STARTTLS before the TLS handshake (a command-injection pattern). */
  injectedBeforeTls: boolean;
}

export interface MailboxState {
  name: string;
  readOnly: boolean;
  exists: number | null;
  recent: number | null;
  uidValidity: number | null;
  uidNext: number | null;
  flags: string[];
}

/** Everything learned about one IMAP connection. */
export interface ImapConnection {
  conn: Connection;
  greeting: { status: string; text: string; frame: number } | null;
  user: string | null;
  /** LOGIN, or the SASL mechanism of AUTHENTICATE. */
  authMechanism: string | null;
  authenticated: boolean;
  /** Credentials crossed the wire unencrypted (LOGIN, PLAIN, LOGIN mechanism before TLS). */
  cleartextAuth: boolean;
  clientId: Record<string, string | null> | null;
  serverId: Record<string, string | null> | null;
  capabilities: string[];
  enabled: string[];
  tls: TlsInfo | null;
  compress: { frame: number } | null;
  selected: MailboxState | null;
  commands: number;
  /** Mailboxes the server listed (LIST/LSUB/XLIST), names decoded from modified UTF-7, with their flags (special-use included). */
  mailboxes: { name: string; delimiter: string | null; flags: string[] }[];
  /** Untagged responses that arrived while no command was outstanding (unsolicited). */
  unsolicited: number;
  /** Bytes that were not IMAP (noise on the port, undecodable compressed data). */
  undecoded: number;
}
