/**
 * The data an HTML report embeds (as JSON) and its client script draws. Types only: shared by the builder
 * (model.ts, in Node) and the client script (client/, in the browser). Times are seconds from the capture's
 * first frame; everything that came off the wire is plain text here and stays text in the page.
 */

export interface ReportData {
  /** "imapscope 0.1.0": what made the report. */
  generator: string;
  captures: CaptureData[];
  /** Each capture compared with the first (empty for one capture). */
  comparisons: ComparisonData[];
  /** Upper bounds (ms) of the latency histogram bins shared by every command; the last bin is open-ended. */
  histogramEdgesMs: number[];
}

export interface CaptureData {
  path: string;
  format: string | null;
  gzip: boolean;
  linkTypes: string[];
  frames: number;
  /** ISO 8601 UTC of the first and last frame. */
  start: string | null;
  end: string | null;
  /** Seconds from the first to the last frame. */
  spanS: number;
  /** What could not be read (TLS without keys, no IMAP on the ports), to say first; null when all was read. */
  notice: string | null;
  warnings: WarningData[];
  /** Warnings beyond those listed (the list is capped to keep the page small). */
  warningsOmitted: number;
  /** Most IMAP connections open at once. */
  maxOpen: number;
  /** [seconds, connections open from then on], one step per connection start or end. */
  open: [number, number][];
  /** In order of start time. */
  connections: ConnectionData[];
  commands: CommandData[];
  /** The fetched messages in mailbox, UID order: the first MAX_MESSAGES (model.ts) of them. */
  messages: MessageData[];
  /** Fetched messages beyond those embedded. */
  messagesOmitted: number;
  exchangeCount: number;
}

export interface WarningData {
  frame: number | null;
  conn: number | null;
  message: string;
}

export interface TlsData {
  how: 'implicit' | 'starttls';
  frame: number;
  version: string | null;
  cipher: string | null;
  sni: string | null;
  decrypted: boolean;
  /** Why it was not decrypted, when a key log was given. */
  note: string | null;
  /** The client sent data after STARTTLS before the handshake. */
  injectedBeforeTls: boolean;
}

export interface ConnectionData {
  /** Wireshark's tcp.stream. */
  id: number;
  client: string;
  server: string;
  start: number;
  end: number;
  firstFrame: number;
  lastFrame: number;
  state: string;
  /** The capture began after the connection did (no SYN). */
  midStream: boolean;
  /** The server's greeting (untagged OK, PREAUTH or BYE). */
  greeting: { frame: number; status: string; text: string } | null;
  user: string | null;
  clientName: string | null;
  authMechanism: string | null;
  cleartextAuth: boolean;
  tls: TlsData | null;
  compressFrame: number | null;
  bytes: { client: number; server: number };
  gaps: number;
  /** In request order: of a long connection, the first and the last LADDER_EXCHANGES / 2 (see `omitted`). */
  exchanges: ExchangeData[];
  /** The exchanges left out between those kept: after exchanges[after - 1], `count` of them; null when none were. */
  omitted: { after: number; count: number } | null;
  /** STARTTLS, COMPRESS, TLS and gap markers, in frame order. */
  markers: MarkerData[];
}

export interface ExchangeData {
  tag: string | null;
  command: string;
  /** Credentials redacted, literals folded to {size}. */
  args: string;
  status: 'OK' | 'NO' | 'BAD' | null;
  code: string | null;
  text: string;
  requestFrame: number | null;
  responseFrame: number | null;
  start: number | null;
  end: number | null;
  latencyMs: number | null;
  untagged: number;
  continuations: number;
  requestBytes: number;
  responseBytes: number;
  /** The capture holds the tagged response but not the request. */
  requestMissing: boolean;
}

export interface MarkerData {
  frame: number;
  side: 'client' | 'server' | null;
  text: string;
}

/**
 * CommandSummary (analysis/stats.ts) plus a histogram. Restated rather than imported: this file is compiled
 * into the page's script too and must stand alone; model.ts builds it from a CommandSummary, so the
 * compiler catches any drift.
 */
export interface CommandData {
  command: string;
  count: number;
  ok: number;
  no: number;
  bad: number;
  incomplete: number;
  medianMs: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  /** Exchanges per latency bin (see ReportData.histogramEdgesMs). */
  histogram: number[];
}

export interface SectionFetchData {
  conn: number;
  tag: string | null;
  command: string;
  requestFrame: number | null;
  /** Frame of the FETCH response that carried it. */
  frame: number;
  section: string;
  how: string;
  origin: number | null;
  bytes: number;
  complete: boolean;
}

export interface PartData {
  /** IMAP part number ("" for the root of a multipart message). */
  part: string;
  /** Nesting depth in the tree (0 for the root). */
  depth: number;
  type: string;
  encoding: string | null;
  size: number | null;
  filename: string | null;
  /** The body enclosed in a message/rfc822 part (it shares that part's number). */
  enclosed: boolean;
  /** A leaf no fetch covered. */
  notFetched: boolean;
  fetches: SectionFetchData[];
}

export interface MessageData {
  mailbox: string | null;
  uidValidity: number | null;
  uid: number | null;
  seq: number;
  date: string | null;
  from: string | null;
  subject: string | null;
  size: number | null;
  structureFrom: 'BODYSTRUCTURE' | 'message' | null;
  /** The MIME tree in document order. */
  parts: PartData[];
  /** Sections of the whole message (BODY[], HEADER, HEADER.FIELDS, TEXT of the top level). */
  fetches: SectionFetchData[];
  /** Sections fetched beyond those listed (in `fetches` and the parts'): the report lists MAX_FETCHES_SHOWN per message. */
  fetchesOmitted: number;
}

export interface ComparisonData {
  a: string;
  b: string;
  same: boolean;
  /** Each difference in one sentence. */
  differences: { what: string; text: string }[];
  sameAspects: string[];
  /** Connections paired by what they do, their command shapes aligned side by side (as `diff -y`). */
  pairs: {
    a: number | null;
    b: number | null;
    role: string;
    similarity: number;
    rows: { mark: 'same' | 'changed' | 'onlyA' | 'onlyB'; a: string | null; b: string | null }[];
    /** Rows beyond those listed. */
    rowsOmitted: number;
  }[];
}
