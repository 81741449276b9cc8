import type { Exchange, ImapConnection } from '../imap/model.js';
import type { Connection, TimePoint } from '../tcp/types.js';
import { isoTime, secondsBetween } from '../util/time.js';
import { latencyMs } from '../analysis/stats.js';

/**
 * What a filter or a -e column is evaluated on: one exchange with its connection (commands, summary,
 * check, fetches), or a connection alone (streams: `ex` is null, `conn` is null without IMAP dissection).
 */
export interface FilterRecord {
  tcp: Connection;
  conn: ImapConnection | null;
  ex: Exchange | null;
  /** The capture's first frame time, for frame.time_relative. */
  t0: TimePoint | null;
}

/** protocol: present or absent only (`tls`), as Wireshark's protocol fields. */
export type FieldType = 'string' | 'number' | 'duration' | 'ip' | 'boolean' | 'protocol';
export type FieldValue = string | number | boolean;

/** connection: known for a whole TCP connection; exchange: for one command exchange. */
export type FieldLevel = 'connection' | 'exchange';

export interface FieldDef {
  name: string;
  /** Wireshark/tshark names of the same meaning. */
  aliases: string[];
  type: FieldType;
  level: FieldLevel;
  description: string;
  /** Where the same value is in the JSON output (command: key), when it is. */
  json: string | null;
  /** One value, several (ip.addr: both ends), or null when absent. */
  get(r: FilterRecord): FieldValue | FieldValue[] | null;
}

const ex = (r: FilterRecord): Exchange | null => r.ex;
const exTime = (r: FilterRecord): TimePoint | null => r.ex ? r.ex.start ?? r.ex.end : r.tcp.start;

function field(name: string, type: FieldType, level: FieldLevel, description: string, json: string | null, get: FieldDef['get'], aliases: string[] = []): FieldDef {
  return { name, aliases, type, level, description, json, get };
}

/** Every field a filter (-Y) or a fields column (-e) can name. `imapscope fields` prints this list. */
export const FIELDS: readonly FieldDef[] = [
  // Frame and time (of the request; of the response when the request is not in the capture).
  field('frame.number', 'number', 'exchange', "the request's frame number (the response's when the request was not captured)", 'commands: requestFrame',
    (r) => r.ex ? r.ex.requestFrame ?? r.ex.responseFrame : null),
  field('frame.time', 'string', 'connection', 'time of the request (of the connection\'s first frame in streams), ISO 8601 UTC', 'commands: start',
    (r) => { const t = exTime(r); return t ? isoTime(t) : null; }),
  field('frame.time_epoch', 'number', 'connection', 'the same time in seconds since 1970', null,
    (r) => { const t = exTime(r); return t ? t.sec + t.nsec / 1e9 : null; }),
  field('frame.time_relative', 'duration', 'connection', "the same time in seconds since the capture's first frame", null,
    (r) => { const t = exTime(r); return t && r.t0 ? secondsBetween(r.t0, t) : null; }),
  // TCP/IP of the connection: the client is the source (of requests), the server the destination.
  field('tcp.stream', 'number', 'connection', 'connection id, as Wireshark numbers TCP conversations', 'commands: conn; summary, streams: id', (r) => r.tcp.id),
  field('ip.src', 'ip', 'connection', "the client's address (source of the requests)", 'summary, streams: client.ip', (r) => r.tcp.client.ip, ['ipv6.src']),
  field('ip.dst', 'ip', 'connection', "the server's address", 'summary, streams: server.ip', (r) => r.tcp.server.ip, ['ipv6.dst']),
  field('ip.addr', 'ip', 'connection', 'either address (client or server)', null, (r) => [r.tcp.client.ip, r.tcp.server.ip], ['ipv6.addr']),
  field('tcp.srcport', 'number', 'connection', "the client's port", 'summary, streams: client.port', (r) => r.tcp.client.port),
  field('tcp.dstport', 'number', 'connection', "the server's port", 'summary, streams: server.port', (r) => r.tcp.server.port),
  field('tcp.port', 'number', 'connection', 'either port (client or server)', null, (r) => [r.tcp.client.port, r.tcp.server.port]),
  field('tls', 'protocol', 'connection', 'present when the connection uses TLS (IMAPS or STARTTLS)', 'summary: tls', (r) => r.conn?.tls ? true : null),
  field('tls.handshake.extensions_server_name', 'string', 'connection', 'the TLS server name (SNI) the client asked for', 'summary: tls.sni', (r) => r.conn?.tls?.sni ?? null),
  field('compress', 'protocol', 'connection', 'present when COMPRESS=DEFLATE was started on the connection', 'summary: compress', (r) => r.conn?.compress ? true : null),
  field('imap.user', 'string', 'connection', 'the user name the connection logged in as (LOGIN or SASL)', 'summary: user', (r) => r.conn?.user ?? null),
  field('imap.client', 'string', 'connection', 'the client\'s name from its ID command', 'summary: clientId.name', (r) => r.conn?.clientId?.name ?? null),
  field('imap.client.version', 'string', 'connection', 'the client\'s version from its ID command', 'summary: clientId.version', (r) => r.conn?.clientId?.version ?? null),
  field('imap.auth.mechanism', 'string', 'connection', 'LOGIN, or the SASL mechanism of AUTHENTICATE', 'summary: authMechanism', (r) => r.conn?.authMechanism ?? null),
  field('imap.auth.cleartext', 'boolean', 'connection', 'credentials crossed the wire unencrypted', 'summary: cleartextAuth', (r) => r.conn ? r.conn.cleartextAuth : null),
  // The exchange: one tagged command and what the server answered.
  field('imap.tag', 'string', 'exchange', 'the command tag', 'commands: tag', (r) => ex(r)?.tag ?? null, ['imap.request_tag', 'imap.response_tag']),
  field('imap.command', 'string', 'exchange', 'the command in upper case, UID prefix kept ("UID FETCH")', 'commands: command', (r) => ex(r)?.command ?? null),
  field('imap.request.command', 'string', 'exchange', 'the command without its UID prefix ("FETCH"), as tshark names it', null,
    (r) => { const e = ex(r); return e ? (e.command.startsWith('UID ') ? e.command.slice(4) : e.command) : null; }),
  field('imap.request.command.uid', 'boolean', 'exchange', 'the command had the UID prefix', null, (r) => { const e = ex(r); return e ? e.command.startsWith('UID ') : null; }),
  field('imap.args', 'string', 'exchange', 'the arguments, credentials redacted', 'commands: args', (r) => ex(r)?.args ?? null),
  field('imap.status', 'string', 'exchange', 'OK, NO or BAD; absent while incomplete', 'commands: status', (r) => ex(r)?.status ?? null, ['imap.response.status']),
  field('imap.response.code', 'string', 'exchange', 'the response code of the tagged answer, e.g. "READ-WRITE"', 'commands: code', (r) => ex(r)?.code ?? null),
  field('imap.response.text', 'string', 'exchange', 'the text of the tagged answer', 'commands: text', (r) => ex(r)?.text ?? null),
  field('imap.latency', 'duration', 'exchange', "the command's latency as commands reports it: request to tagged answer, less the client's own turns (APPEND literals, SASL steps); IDLE: to its '+' (seconds; write 100ms, 1.5s)", 'commands: latencyMs (milliseconds)',
    (r) => { const e = ex(r); const ms = e ? latencyMs(e) : null; return ms === null ? null : ms / 1000; }, ['imap.time']),
  field('imap.untagged', 'number', 'exchange', 'untagged responses that belong to the command', 'commands: untagged', (r) => ex(r)?.untagged ?? null),
  field('imap.continuations', 'number', 'exchange', 'continuation requests (+) the server sent for it', 'commands: continuations', (r) => ex(r)?.continuations ?? null),
  field('imap.mailbox', 'string', 'exchange', 'the mailbox selected when the command was sent', 'commands: mailbox', (r) => ex(r)?.mailbox ?? null),
  field('imap.request.bytes', 'number', 'exchange', 'octets of the request on the wire', 'commands: requestBytes', (r) => ex(r)?.requestBytes ?? null),
  field('imap.response.bytes', 'number', 'exchange', 'octets of the answer (untagged and tagged) on the wire', 'commands: responseBytes', (r) => ex(r)?.responseBytes ?? null),
  field('imap.request.frame', 'number', 'exchange', 'the frame of the request', 'commands: requestFrame', (r) => ex(r)?.requestFrame ?? null, ['imap.response_to']),
  field('imap.response.frame', 'number', 'exchange', 'the frame of the tagged answer', 'commands: responseFrame', (r) => ex(r)?.responseFrame ?? null, ['imap.response_in']),
  field('imap.request.missing', 'boolean', 'exchange', 'the request was not in the capture (paired by tag)', 'commands: requestMissing', (r) => ex(r)?.requestMissing ?? null),
];

const BY_NAME = new Map<string, FieldDef>();
for (const f of FIELDS) {
  BY_NAME.set(f.name, f);
  for (const a of f.aliases) BY_NAME.set(a, f);
}

export function lookupField(name: string): FieldDef | undefined {
  return BY_NAME.get(name);
}
