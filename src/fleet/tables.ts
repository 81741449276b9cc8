/**
 * The dataset's tables: column names, SQL types and meanings. One definition serves the writer (typed
 * Parquet from NDJSON), the reader (`sql` views over NDJSON) and docs/fleet.md (a test holds them equal).
 * Names follow the JSON output (camelCase); `capture` (the file's path) is on every row, `conn` (Wireshark's
 * tcp.stream) on every row that belongs to a connection. Times are UTC TIMESTAMPs (microseconds).
 */
export interface Column {
  name: string;
  /** DuckDB type; Parquet carries it, so Spark and others read the same. */
  type: string;
  doc: string;
}

export const TABLE_NAMES = ['captures', 'connections', 'exchanges', 'fetches', 'warnings'] as const;
export type TableName = typeof TABLE_NAMES[number];

const capture: Column = { name: 'capture', type: 'VARCHAR', doc: 'path of the capture file, as given or as found under a directory argument' };
const conn: Column = { name: 'conn', type: 'INTEGER', doc: 'connection id (Wireshark\'s tcp.stream)' };

export const TABLES: Record<TableName, Column[]> = {
  captures: [
    capture,
    { name: 'sha256', type: 'VARCHAR', doc: 'SHA-256 of the file\'s bytes (the identity used by incremental export)' },
    { name: 'size', type: 'BIGINT', doc: 'file size in bytes' },
    { name: 'format', type: 'VARCHAR', doc: 'pcap or pcapng; null when the file could not be read as a capture' },
    { name: 'gzip', type: 'BOOLEAN', doc: 'the file was gzip-compressed' },
    { name: 'linkTypes', type: 'VARCHAR[]', doc: 'link-layer types seen (LINKTYPE numbers as text)' },
    { name: 'frames', type: 'BIGINT', doc: 'frames read' },
    { name: 'startTime', type: 'TIMESTAMP', doc: 'earliest frame time' },
    { name: 'endTime', type: 'TIMESTAMP', doc: 'latest frame time' },
    { name: 'spanSeconds', type: 'DOUBLE', doc: 'endTime - startTime in seconds' },
    { name: 'connections', type: 'INTEGER', doc: 'IMAP connections (rows in connections)' },
    { name: 'exchanges', type: 'BIGINT', doc: 'command exchanges (rows in exchanges)' },
    { name: 'fetches', type: 'BIGINT', doc: 'fetched sections (rows in fetches)' },
    { name: 'warnings', type: 'BIGINT', doc: 'warnings (rows in warnings)' },
    { name: 'maxConcurrent', type: 'INTEGER', doc: 'most IMAP connections open at once' },
    { name: 'error', type: 'VARCHAR', doc: 'why the file could not be read at all (also a warnings row); null when it was read' },
  ],
  connections: [
    capture, conn,
    { name: 'clientIp', type: 'VARCHAR', doc: 'client address' },
    { name: 'clientPort', type: 'INTEGER', doc: 'client port' },
    { name: 'serverIp', type: 'VARCHAR', doc: 'server address' },
    { name: 'serverPort', type: 'INTEGER', doc: 'server port' },
    { name: 'firstFrame', type: 'BIGINT', doc: 'first frame of the connection' },
    { name: 'lastFrame', type: 'BIGINT', doc: 'last frame of the connection' },
    { name: 'startTime', type: 'TIMESTAMP', doc: 'time of the first frame' },
    { name: 'endTime', type: 'TIMESTAMP', doc: 'time of the last frame' },
    { name: 'durationMs', type: 'DOUBLE', doc: 'endTime - startTime in milliseconds' },
    { name: 'state', type: 'VARCHAR', doc: 'open, closed or reset' },
    { name: 'midStream', type: 'BOOLEAN', doc: 'the capture lacks the handshake (started mid-connection)' },
    { name: 'clientBytes', type: 'BIGINT', doc: 'TCP payload bytes from the client' },
    { name: 'serverBytes', type: 'BIGINT', doc: 'TCP payload bytes from the server' },
    { name: 'clientGapBytes', type: 'BIGINT', doc: 'client bytes lost to gaps' },
    { name: 'serverGapBytes', type: 'BIGINT', doc: 'server bytes lost to gaps' },
    { name: 'user', type: 'VARCHAR', doc: 'user name from LOGIN or SASL' },
    { name: 'authMechanism', type: 'VARCHAR', doc: 'LOGIN or the SASL mechanism' },
    { name: 'authenticated', type: 'BOOLEAN', doc: 'authentication succeeded' },
    { name: 'cleartextAuth', type: 'BOOLEAN', doc: 'credentials crossed the wire without TLS' },
    { name: 'clientName', type: 'VARCHAR', doc: 'client\'s ID "name" (or "vendor")' },
    { name: 'clientVersion', type: 'VARCHAR', doc: 'client\'s ID "version"' },
    { name: 'serverSoftware', type: 'VARCHAR', doc: 'server\'s ID name and version, else its greeting text (as in summary)' },
    { name: 'tlsHow', type: 'VARCHAR', doc: 'implicit (IMAPS), starttls, or null without TLS' },
    { name: 'tlsVersion', type: 'VARCHAR', doc: 'negotiated TLS version' },
    { name: 'tlsCipher', type: 'VARCHAR', doc: 'negotiated cipher suite' },
    { name: 'tlsSni', type: 'VARCHAR', doc: 'server name the client asked for' },
    { name: 'tlsDecrypted', type: 'BOOLEAN', doc: 'TLS was decrypted with a key log' },
    { name: 'compress', type: 'BOOLEAN', doc: 'COMPRESS=DEFLATE was switched on' },
    { name: 'commands', type: 'INTEGER', doc: 'commands the client sent' },
    { name: 'capabilities', type: 'VARCHAR[]', doc: 'the server\'s latest capability list' },
    { name: 'selected', type: 'VARCHAR', doc: 'mailbox selected at the end' },
  ],
  exchanges: [
    capture, conn,
    { name: 'tag', type: 'VARCHAR', doc: 'command tag' },
    { name: 'command', type: 'VARCHAR', doc: 'command name, upper case, UID prefix kept ("UID FETCH")' },
    { name: 'args', type: 'VARCHAR', doc: 'arguments, credentials redacted' },
    { name: 'status', type: 'VARCHAR', doc: 'OK, NO, BAD, BYE, or null when no tagged response was captured' },
    { name: 'code', type: 'VARCHAR', doc: 'response code of the tagged response' },
    { name: 'text', type: 'VARCHAR', doc: 'text of the tagged response' },
    { name: 'requestFrame', type: 'BIGINT', doc: 'frame that completed the request' },
    { name: 'responseFrame', type: 'BIGINT', doc: 'frame that completed the tagged response' },
    { name: 'startTime', type: 'TIMESTAMP', doc: 'time of the request' },
    { name: 'endTime', type: 'TIMESTAMP', doc: 'time of the tagged response' },
    { name: 'latencyMs', type: 'DOUBLE', doc: 'request to tagged response, milliseconds (exact, from the capture\'s own resolution)' },
    { name: 'untagged', type: 'INTEGER', doc: 'untagged responses that belong to the command' },
    { name: 'untaggedByType', type: 'MAP(VARCHAR, INTEGER)', doc: 'the same by type (EXISTS, FETCH, LIST, …)' },
    { name: 'continuations', type: 'INTEGER', doc: 'continuation requests ("+") for the command' },
    { name: 'requestBytes', type: 'BIGINT', doc: 'bytes of the request' },
    { name: 'responseBytes', type: 'BIGINT', doc: 'bytes of its responses' },
    { name: 'mailbox', type: 'VARCHAR', doc: 'mailbox selected when the command was sent' },
    { name: 'requestMissing', type: 'BOOLEAN', doc: 'the request was not captured (paired by tag alone)' },
  ],
  fetches: [
    capture, conn,
    { name: 'tag', type: 'VARCHAR', doc: 'tag of the FETCH command' },
    { name: 'command', type: 'VARCHAR', doc: 'FETCH or UID FETCH' },
    { name: 'requestFrame', type: 'BIGINT', doc: 'frame of the FETCH request' },
    { name: 'frame', type: 'BIGINT', doc: 'frame that completed the FETCH response carrying the section (or, for a response of more than 4,096 literals, read in instalments, the instalment)' },
    { name: 'mailbox', type: 'VARCHAR', doc: 'mailbox of the message' },
    { name: 'uidValidity', type: 'BIGINT', doc: 'UIDVALIDITY of the mailbox' },
    { name: 'uid', type: 'BIGINT', doc: 'UID of the message, when known' },
    { name: 'seq', type: 'BIGINT', doc: 'sequence number at the message\'s first fetch' },
    { name: 'item', type: 'VARCHAR', doc: 'FETCH item as returned (BODY[1], BODY[HEADER.FIELDS (…)]<0>, …)' },
    { name: 'section', type: 'VARCHAR', doc: 'section spec ("" for the whole message)' },
    { name: 'part', type: 'VARCHAR', doc: 'MIME part number it names, when the tree is known' },
    { name: 'partType', type: 'VARCHAR', doc: 'MIME type of that part' },
    { name: 'how', type: 'VARCHAR', doc: 'full, partial, header, header-fields, text, mime or size' },
    { name: 'origin', type: 'BIGINT', doc: 'start of a partial fetch (<origin.length>)' },
    { name: 'bytes', type: 'BIGINT', doc: 'octets returned' },
    { name: 'sha256', type: 'VARCHAR', doc: 'SHA-256 of the octets as sent' },
    { name: 'complete', type: 'BOOLEAN', doc: 'false when the capture lost some of the octets' },
  ],
  warnings: [
    capture,
    { name: 'conn', type: 'INTEGER', doc: 'connection the problem belongs to, or null' },
    { name: 'frame', type: 'BIGINT', doc: 'frame the problem belongs to, or null for file-level problems' },
    { name: 'message', type: 'VARCHAR', doc: 'what went wrong' },
  ],
};

/** A row as written: column name → JSON value. */
export type Row = Record<string, unknown>;
export type TableRows = Record<TableName, Row[]>;

export function emptyTables(): TableRows {
  return { captures: [], connections: [], exchanges: [], fetches: [], warnings: [] };
}

/** DuckDB's `columns={…}` argument of read_json: the table's exact types, also for an empty file. */
export function jsonColumnsArg(table: TableName): string {
  return `{${TABLES[table].map((c) => `${c.name}: '${c.type}'`).join(', ')}}`;
}
