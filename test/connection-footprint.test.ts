/**
 * What an open, idle connection costs. Many connections can be open at once (a server's capture, a client
 * that keeps IDLE connections), so what each one holds while idle is kept small: no buffer, map, set or
 * closure of its own, and a bounded number of small objects. Counted structurally (test/helpers/footprint.ts:
 * everything reachable from the tracker with 2N connections open, minus with N, per connection), so the
 * bounds are exact and not flaky; one heap measurement checks the same from the garbage collector's side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Segment } from '../src/decode/types.js';
import { TcpTracker } from '../src/tcp/tracker.js';
import { RingPool } from '../src/tcp/recent-bytes.js';
import type { Side, StreamSink } from '../src/tcp/types.js';
import { KeyLog } from '../src/tls/keylog.js';
import { Deflate, Z_SYNC_FLUSH } from 'pako';
import { ImapSession, SessionContext, type SessionEvents } from '../src/imap/session.js';
import type { ImapConnection } from '../src/imap/model.js';
import { ExchangeOrderer } from '../src/analysis/orderer.js';
import { sessionSink } from '../src/analysis/analyzer.js';
import { FetchTracker } from '../src/analysis/fetches.js';
import { TcpFlow, type SynthPacket } from './helpers/synth.js';
import { segmentsOf } from './helpers/segments.js';
import { footprint, perUnit, type Footprint } from './helpers/footprint.js';
import { collectGarbage } from './helpers/gc.js';
import { CAPTURES } from './helpers/env.js';
import { recordedPieces } from '../bench/scale-captures.js';

/**
 * `count` connections that each open, say what `talk` says (by default: get a greeting, send a command and, unless
 * `unanswered`, get its answer), and never close. Every connection opens before the first one speaks. A minute later another
 * conversation starts: by then every connection has been quiet for longer than the streams keep what was
 * acknowledged (ACKNOWLEDGED_HOLD_SECONDS).
 */
async function idleConnections(count: number, unanswered = false, untagged = '', talk: Talk = answeredCommand(unanswered, untagged), handshakes = true): Promise<Segment[]> {
  const flows = Array.from({ length: count }, (_, i) => new TcpFlow({
    client: { ip: `10.1.${i >> 8}.${i & 255}`, port: 40000 + i },
    server: { ip: '192.0.2.10', port: 143 },
    clientIsn: (i * 2654435761) >>> 0,
    start: 1_700_000_000 + i * 1e-3,
  }));
  // Without handshakes, the capture begins mid-connection.
  const packets: SynthPacket[] = handshakes ? flows.flatMap((f) => f.handshake()) : [];
  flows.forEach((f, i) => packets.push(...talk(f, i)));
  const later = new TcpFlow({ client: { ip: '10.9.9.9', port: 50000 }, server: { ip: '192.0.2.10', port: 80 }, start: 1_700_000_000 + count * 1e-3 + 60 });
  // Its SYN, and again 15 s later: a stream whose turn in the hold came while it still took bytes waits another turn.
  const [syn] = later.handshake();
  packets.push(syn!, { ...syn!, t: Number(syn!.t) + 15 });
  return segmentsOf(packets);
}

/** What one connection says after its handshake. */
type Talk = (f: TcpFlow, i: number) => SynthPacket[];

const greeting = (f: TcpFlow) => f.send('server', '* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n');

/** A command (the connection's own tag), answered after `untagged` unless `unanswered`. */
function answeredCommand(unanswered: boolean, untagged: string): Talk {
  return (f, i) => [...greeting(f), ...f.send('client', `a${i} NOOP\r\n`), ...(unanswered ? [] : f.send('server', `${untagged}a${i} OK NOOP completed\r\n`))];
}

/** A mail client: logs in with SASL PLAIN, selects INBOX and idles (its tags the same on every connection). */
const mailClient: Talk = (f, i) => [
  ...greeting(f),
  ...f.send('client', 'a1 AUTHENTICATE PLAIN\r\n'), ...f.send('server', '+ \r\n'),
  ...f.send('client', `${Buffer.from(`\0user${i}\0secret`).toString('base64')}\r\n`), ...f.send('server', 'a1 OK Logged in\r\n'),
  ...f.send('client', 'a2 SELECT INBOX\r\n'),
  ...f.send('server', '* FLAGS (\\Seen)\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\na2 OK [READ-WRITE] Select completed\r\n'),
  ...f.send('client', 'a3 IDLE\r\n'), ...f.send('server', '+ idling\r\n'),
];

const PORTS = { ports: new Set([143]), maxHeldBytes: 4 << 20 };

/** The TCP layer alone (what `streams` runs): a sink that keeps nothing. */
function tcpOnly(segments: Segment[]): unknown[] {
  const sink: StreamSink<null> = { open: () => null, data: () => {}, gap: () => {}, close: () => {} };
  const tracker = new TcpTracker(sink, () => {}, PORTS);
  for (const seg of segments) tracker.segment(seg);
  return [tracker];
}

/** Segments through TCP into an IMAP session per connection, with these events (and keys and a ring pool, if given). */
function trackSessions(segments: Segment[], events: SessionEvents, keys?: KeyLog, rings?: RingPool): TcpTracker<ImapSession> {
  const context = new SessionContext(events, () => {}, { keys });
  const sink: StreamSink<ImapSession> = {
    open: (conn) => new ImapSession(conn, context),
    data: (_conn, side, bytes, frame, time, session) => session.data(side, bytes, frame, time),
    gap: (_conn, side, length, frame, time, session) => session.gap(side, length, frame, time),
    close: (conn, _reason, session) => session.close(conn.lastFrame, conn.end),
  };
  const tracker = new TcpTracker(sink, () => {}, { ...PORTS, rings });
  for (const seg of segments) tracker.segment(seg);
  return tracker;
}

/**
 * Per connection, what `talk` leaves behind in TCP and IMAP, not counting the rings the pool keeps as spares for other
 * connections (large ones up to its bound, whoever used them last).
 */
async function perConnectionBesidesSpareRings(talk: Talk, keys?: KeyLog, handshakes = true): Promise<Footprint> {
  const measure = async (count: number) => {
    const rings = new RingPool();
    return footprint([trackSessions(await idleConnections(count, false, '', talk, handshakes), { exchange: () => {} }, keys, rings)], [rings]);
  };
  return perUnit(await measure(2 * N), await measure(N), N);
}

/** TCP and IMAP as the analysis wires them: a session per connection, exchanges ordered across connections. */
function withSessions(segments: Segment[], keys?: KeyLog): unknown[] {
  const orderer = new ExchangeOrderer<ImapConnection>(() => {}, () => {});
  return [trackSessions(segments, { opened: (ex, info) => orderer.opened(ex, info), exchange: (ex) => orderer.completed(ex) }, keys), orderer];
}

/** The same, with FETCH tracking wired in as analyzeWithFetches does (`report`, `fetches`, `compare`, `export`, `extract`). */
function withFetchTracking(segments: Segment[]): unknown[] {
  const orderer = new ExchangeOrderer<ImapConnection>(() => {}, () => {});
  const fetches = new FetchTracker();
  const tracker = trackSessions(segments, {
    opened: (ex, info) => orderer.opened(ex, info),
    exchange: (ex) => { orderer.completed(ex); fetches.exchangeDone(ex); },
    untagged: (r, msg, owner, info) => fetches.untagged(r, msg, owner, info),
  });
  return [tracker, orderer, fetches];
}

const N = 100;

async function perConnection(build: (segments: Segment[]) => unknown[], unanswered = false, untagged = '', talk?: Talk, handshakes = true): Promise<Footprint> {
  const fewer = footprint(build(await idleConnections(N, unanswered, untagged, talk, handshakes)));
  const more = footprint(build(await idleConnections(2 * N, unanswered, untagged, talk, handshakes)));
  return perUnit(more, fewer, N);
}

/** Each connection sends its SYN and nothing more (a port scan, a SYN flood at a mail server): no handshake follows. */
const synOnly: Talk = (f) => [f.handshake()[0]!];

/** Segments through TCP into the analysis's sink (sessionSink), which makes a session at a connection's first byte. */
function withSessionsAtFirstByte(segments: Segment[]): unknown[] {
  const context = new SessionContext({ exchange: () => {} }, () => {});
  const tracker = new TcpTracker(sessionSink(context, { atOpen: false, started: () => {}, closed: () => {} }), () => {}, PORTS);
  for (const seg of segments) tracker.segment(seg);
  return [tracker];
}

/** Nothing but small objects: no buffer (rings are cut from shared slabs), map, set, closure or weak reference. */
function assertOnlySmallObjects(cost: Footprint, what: string): void {
  for (const kind of ['buffer', 'Map', 'Set', 'function', 'weak']) {
    assert.equal(cost.kinds[kind] ?? 0, 0, `${what}: ${kind} per connection (${JSON.stringify(cost)})`);
  }
}

test('an open, idle connection holds no buffer, map or closure of its own at the TCP layer, and a few hundred bytes', async () => {
  const cost = await perConnection(tcpOnly);
  assertOnlySmallObjects(cost, 'TCP');
  // The record (its client endpoint and two times: the byte counts are the directions' until the close), the
  // conversation and its two directions' numbers. Neither direction keeps its retransmission-check ring, nor the
  // object that held it, once the hold has passed: not even a short command's. Quiet, both directions are kept as
  // their numbers (QuietStreams): one object, not two streams (616 bytes before).
  assert.equal(cost.classes.RecentBytes ?? 0, 0, `rings per connection: ${JSON.stringify(cost)}`);
  assert.equal(cost.classes.HalfStream ?? 0, 0, `streams per connection: ${JSON.stringify(cost)}`);
  assert.equal(cost.classes.QuietStreams, 1, `quiet streams per connection: ${JSON.stringify(cost)}`);
  assert.ok((cost.kinds.object ?? 0) <= 6, `objects per connection: ${JSON.stringify(cost)}`);
  assert.ok(cost.bytes <= 536, `bytes per connection: ${JSON.stringify(cost)}`);
});

test('a conversation that only sent its SYN keeps no stream, and one time', async () => {
  const cost = await perConnection(tcpOnly, false, '', synOnly, false);
  assertOnlySmallObjects(cost, 'SYN only');
  // A direction's stream is made at its first segment, or after a bare SYN at its next one or the peer's ACK of it: the
  // server never sent one, and the client's SYN says only where its bytes would begin (its first sequence number).
  assert.equal(cost.classes.HalfStream ?? 0, 0, JSON.stringify(cost));
  assert.equal(cost.classes.Conversation, 1, JSON.stringify(cost));
  // The record, its client endpoint and its time: the SYN's frame is its first and its last, and its start and end.
  assert.equal(cost.classes.Object, 3, JSON.stringify(cost));
});

test('the analysis makes no session for a connection that carried no byte: a SYN costs what it costs the TCP layer', async () => {
  const tcp = await perConnection(tcpOnly, false, '', synOnly, false);
  const analysed = await perConnection(withSessionsAtFirstByte, false, '', synOnly, false);
  assert.equal(analysed.classes.ImapSession ?? 0, 0, JSON.stringify(analysed));
  assert.deepEqual(analysed, tcp);
  // Once a connection carried a byte, it has its session: at rest, as the connection has been quiet since.
  const greeted = await perConnection(withSessionsAtFirstByte, false, '', (f) => [...f.handshake(), ...greeting(f)], false);
  assert.equal(greeted.classes.RestingSession, 1, JSON.stringify(greeted));
});

test('an open, idle IMAP connection (its command answered) holds no buffer, map, closure, framer or transport of its own, and under 1 KiB', async () => {
  const cost = await perConnection(withSessions);
  assertOnlySmallObjects(cost, 'TCP and IMAP');
  // On top of TCP: the session, its pending-command list, its record and greeting. No framer: between messages a
  // framer holds nothing, so a side has one only while a message of it is being read. No transport: a plain
  // connection gets one only when TLS or COMPRESS comes.
  assert.equal(cost.kinds.Array ?? 0, 0, `no array of its own once nothing is pending (${JSON.stringify(cost)})`);
  assert.equal(cost.classes.ImapFramer ?? 0, 0, `no framer between messages (${JSON.stringify(cost)})`);
  assert.equal(cost.classes.ConnectionTransport ?? 0, 0, `no transport for plain IMAP (${JSON.stringify(cost)})`);
  assert.ok((cost.kinds.object ?? 0) <= 10, `objects per connection: ${JSON.stringify(cost)}`);
  assert.ok(cost.bytes <= 952, `bytes per connection: ${JSON.stringify(cost)}`);
});

test('a connection waiting for an answer adds its exchange and the pending command, still no map of its own', async () => {
  const idle = await perConnection(withSessions);
  const waiting = await perConnection(withSessions, true);
  assertOnlySmallObjects(waiting, 'waiting');
  // One command outstanding (an IDLE, a command waiting for its answer) is held without a list.
  assert.equal(waiting.kinds.Array ?? 0, 0, `no array for one outstanding command (${JSON.stringify(waiting)})`);
  // The exchange (23 fields), its request's time, and the pending entry (3: its tag is the exchange's).
  assert.ok(waiting.bytes - idle.bytes <= 304, `${waiting.bytes - idle.bytes} bytes per outstanding command`);
});

test('an idling mail client keeps nothing of its SASL login and nothing for what only some connections do', async () => {
  const cost = await perConnection(withSessions, false, '', mailClient);
  for (const kind of ['Map', 'Set', 'function', 'weak']) assert.equal(cost.kinds[kind] ?? 0, 0, `${kind} per connection (${JSON.stringify(cost)})`);
  // The login's steps end with it; the session's fields for oddities (literals answered early, a pipeline past the
  // cap, responses without a request) are made by a connection that has them.
  for (const name of ['SaslTracker', 'Authentication', 'Oddities']) {
    assert.equal(cost.classes[name] ?? 0, 0, `${name} per connection (${JSON.stringify(cost)})`);
  }
  // Its IDLE, outstanding: the exchange, and the pending entry without a copy of the tag.
  assert.equal(cost.classes.Outstanding, 1, JSON.stringify(cost));
});

/** TCP and IMAP through the analysis's own sink (sessionSink), whose sessions rest while their connections are quiet. */
function withAnalysisSink(segments: Segment[], keys?: KeyLog): unknown[] {
  const orderer = new ExchangeOrderer<ImapConnection>(() => {}, () => {});
  const context = new SessionContext({ opened: (ex, info) => orderer.opened(ex, info), exchange: (ex) => orderer.completed(ex) }, () => {}, { keys });
  const tracker = new TcpTracker(sessionSink(context, { atOpen: true, started: () => {}, closed: () => {} }), () => {}, PORTS);
  for (const seg of segments) tracker.segment(seg);
  return [tracker, orderer];
}

test('an idling mail client\'s session rests in one object once its connection is quiet: no session, pending list or IDLE entry', async () => {
  const awake = await perConnection(withSessions, false, '', mailClient);
  const resting = await perConnection(withAnalysisSink, false, '', mailClient);
  assert.equal(resting.classes.RestingSession, 1, JSON.stringify(resting));
  for (const name of ['ImapSession', 'PendingCommands', 'Outstanding']) {
    assert.equal(resting.classes[name] ?? 0, 0, `${name} per connection (${JSON.stringify(resting)})`);
  }
  // The session (14 words), its pending list (7) and the IDLE's entry (6), against 10 words.
  const less = Math.round(awake.bytes - resting.bytes); // per connection: a quotient, not always a whole number
  assert.ok(less >= 136, `${less} bytes less per connection`);
});

/** A recorded TLS session (the server's log of it beside the capture), replayed up to `idleAfter`. */
interface RecordedTls {
  name: string;
  capture: string;
  keys: string;
  serverPort: number;
  /** Its last frame before the client's LOGOUT or its next command: the connection is left idle there. */
  idleAfter: number;
  /** Commands answered by then. */
  answered: string[];
  protection: string;
}

const RECORDED_TLS: RecordedTls[] = [
  { name: 'IMAPS, TLS 1.3', capture: 'imaps-tls13.pcap', keys: 'imaps-tls13.keys', serverPort: 993, idleAfter: 23,
    answered: ['CAPABILITY', 'LOGIN', 'SELECT'], protection: 'Tls13Protection' },
  { name: 'STARTTLS, TLS 1.2', capture: 'starttls-tls12.pcap', keys: 'starttls-tls12.keys', serverPort: 143, idleAfter: 34,
    answered: ['CAPABILITY', 'STARTTLS', 'CAPABILITY', 'LOGIN', 'SELECT', 'UID FETCH', 'UID FETCH'], protection: 'Tls12Protection' },
];

/**
 * The session as its two sides sent it, up to `idleAfter`. Replayed by many clients, each is a mail client left idle,
 * its records decrypted with the one key log (they all share the client random).
 */
async function recordedSession(r: RecordedTls): Promise<Talk> {
  const pieces = await recordedPieces(join(CAPTURES, r.capture), r.serverPort, 1, r.idleAfter);
  return (f) => pieces.flatMap(([side, bytes]) => f.send(side, bytes));
}

/**
 * Buffers reachable from `roots`, but not through `shared`, that are views into a larger block: each keeps the whole
 * block alive.
 */
function viewsOfLargerBlocks(roots: readonly unknown[], shared: readonly object[]): number[] {
  const seen = new Set<object>();
  const found: number[] = [];
  const walk = (start: readonly unknown[], collect: boolean) => {
    const stack = [...start];
    while (stack.length > 0) {
      const value = stack.pop();
      if (typeof value !== 'object' || value === null || seen.has(value)) continue;
      seen.add(value);
      if (ArrayBuffer.isView(value)) {
        if (collect && value.buffer.byteLength > value.byteLength) found.push(value.buffer.byteLength);
        continue;
      }
      if (value instanceof Map || value instanceof Set) stack.push(...value.values());
      else for (const v of Object.values(value)) stack.push(v);
    }
  };
  walk(shared, false);
  walk(roots, true);
  return found;
}

for (const recorded of RECORDED_TLS) {
  test(`an idle ${recorded.name} connection decrypted with a key log keeps no pool slab, set, closure or list of its own (a real session replayed)`, async () => {
    const talk = await recordedSession(recorded);
    const keys = KeyLog.parse(readFileSync(join(CAPTURES, recorded.keys), 'utf8'));
    // It is decrypted: every replica's commands are answered.
    const segments = await idleConnections(20, false, '', talk);
    const answered: string[] = [];
    trackSessions(segments, { exchange: (ex) => { if (ex.conn === 0 && ex.status === 'OK') answered.push(ex.command); } }, keys);
    assert.deepEqual(answered, recorded.answered);
    const cost = await perConnectionBesidesSpareRings(talk, keys);
    for (const kind of ['Map', 'Set', 'function', 'weak', 'Array']) assert.equal(cost.kinds[kind] ?? 0, 0, `${kind} per connection (${JSON.stringify(cost)})`);
    // What decrypting its records takes: the decryptor, a direction each way with its record and handshake readers and
    // its protection (its keys as text), what is kept of the hellos; not the parsed hellos nor a warning set.
    assert.equal(cost.classes[recorded.protection], 2, JSON.stringify(cost));
    assert.equal(cost.kinds.buffer ?? 0, 0, `no buffer: each direction's keys are text (${JSON.stringify(cost)})`);
    // 27 objects: TCP's 7; the session's 6 (it, its pending list, its record with greeting, mailbox and TLS facts); the
    // transport's 2; the decryptor's 12 with what it keeps of the hellos. Nothing held for the segment last decrypted.
    assert.ok((cost.kinds.object ?? 0) <= 27, `objects per connection: ${JSON.stringify(cost)}`);
    assert.ok(cost.bytes <= 2200, `bytes per connection: ${JSON.stringify(cost)}`);
    // No view into a larger block: a 32-byte random cut from Node's 8 KiB buffer pool kept the whole slab alive.
    const sessions: ImapSession[] = [];
    const context = new SessionContext({ exchange: () => {} }, () => {}, { keys });
    const sink: StreamSink<ImapSession> = {
      open: (conn) => { const session = new ImapSession(conn, context); sessions.push(session); return session; },
      data: (_conn, side, bytes, frame, time, session) => session.data(side, bytes, frame, time),
      gap: (_conn, side, length, frame, time, session) => session.gap(side, length, frame, time),
      close: (conn, _reason, session) => session.close(conn.lastFrame, conn.end),
    };
    const tracker = new TcpTracker(sink, () => {}, PORTS);
    for (const seg of segments) tracker.segment(seg);
    assert.equal(sessions.length, 20);
    // (The key log's secrets, read at once, share blocks of their own: they are the capture's, not a connection's.)
    assert.deepEqual(viewsOfLargerBlocks(sessions, [context, keys]), [], 'sizes of the blocks kept alive by views');
  });
}

for (const recorded of RECORDED_TLS) {
  test(`an idle ${recorded.name} connection decrypted with a key log rests: its transport and decryptor in one object`, async () => {
    const talk = await recordedSession(recorded);
    const keys = KeyLog.parse(readFileSync(join(CAPTURES, recorded.keys), 'utf8'));
    const awake = await perConnection((segments) => withSessions(segments, keys), false, '', talk);
    const resting = await perConnection((segments) => withAnalysisSink(segments, keys), false, '', talk);
    assert.equal(resting.classes.RestingTlsSession, 1, JSON.stringify(resting));
    assert.equal(resting.classes.RestingDecryptor, 1, JSON.stringify(resting));
    // Each direction keeps its protection, and nothing of its readers.
    assert.equal(resting.classes[recorded.protection], 2, JSON.stringify(resting));
    for (const name of ['ImapSession', 'PendingCommands', 'ConnectionTransport', 'TlsDecryptor', 'Direction', 'RecordReader', 'HandshakeReader']) {
      assert.equal(resting.classes[name] ?? 0, 0, `${name} per connection (${JSON.stringify(resting)})`);
    }
    // Thirteen objects (the session and its pending list, the transport and its TLS state, the decryptor, what it
    // keeps of the two hellos, its two directions and their four readers) give way to two.
    assert.equal(awake.kinds.object! - resting.kinds.object!, 11, `${JSON.stringify(awake)} against ${JSON.stringify(resting)}`);
    const less = Math.round(awake.bytes - resting.bytes);
    assert.ok(less >= 750, `${less} bytes less per connection`);
  });
}

test('a TLS connection whose hellos the capture does not hold keeps nothing of what it looked for them with, nor framers', async () => {
  const plain = await perConnectionBesidesSpareRings(answeredCommand(false, ''));
  const record = (n: number) => Buffer.concat([Buffer.from([23, 3, 3, n >> 8, n & 255]), Buffer.alloc(n, 0x5a)]);
  // Records of application data both ways: 20 KiB each (past what is looked at for a hello), or one short record each
  // (an idle IMAPS client's keep-alive): either way no hello will come.
  const long: Talk = (f) => [...f.send('client', Buffer.concat(Array.from({ length: 20 }, () => record(1019)))),
    ...f.send('server', Buffer.concat(Array.from({ length: 20 }, () => record(1019))))];
  const short: Talk = (f) => [...f.send('client', record(40)), ...f.send('server', record(60))];
  const keys = KeyLog.parse(readFileSync(join(CAPTURES, 'imaps-tls13.keys'), 'utf8'));
  for (const [talk, handshakes, key, what] of [[long, true, undefined, '20 KiB each way'], [short, true, undefined, 'a record each way'],
    [short, false, undefined, 'captured mid-connection'], [short, false, keys, 'captured mid-connection, with a key log']] as const) {
    const cost = await perConnectionBesidesSpareRings(talk, key, handshakes);
    for (const kind of ['Map', 'Set', 'function', 'weak', 'Array', 'buffer']) assert.equal(cost.kinds[kind] ?? 0, 0, `${what}: ${kind} per connection (${JSON.stringify(cost)})`);
    // A capture begun mid-connection made both framers to find a message start: TLS has none to find.
    assert.equal(cost.classes.ImapFramer ?? 0, 0, `${what}: framers (${JSON.stringify(cost)})`);
    // The transport and its TLS state (the record's TLS facts), beyond a plain connection: no hello sniffing left; with
    // a key log, a decryptor that stopped at each side's first record, holding none of them.
    const bound = key ? 1600 : 320;
    assert.ok(cost.bytes - plain.bytes <= bound, `${what}: ${cost.bytes - plain.bytes} bytes more than a plain connection (${JSON.stringify(cost)})`);
  }
});

test('an idle connection after COMPRESS=DEFLATE keeps what each side inflated, not an inflater (212 KiB before)', async () => {
  // As a push client leaves it: logged in, compression on, INBOX selected and IDLE answered, each message sync-flushed.
  const compressing: Talk = (f) => {
    const deflaters = { client: new Deflate({ raw: true }), server: new Deflate({ raw: true }) };
    const deflated = (side: Side, text: string) => {
      const out: Buffer[] = [];
      deflaters[side].onData = (chunk: Uint8Array) => { out.push(Buffer.from(chunk)); };
      deflaters[side].push(Buffer.from(text, 'latin1'), Z_SYNC_FLUSH);
      return f.send(side, Buffer.concat(out));
    };
    return [
      ...greeting(f), ...f.send('client', 'a1 LOGIN user secret\r\n'), ...f.send('server', 'a1 OK done\r\n'),
      ...f.send('client', 'a2 COMPRESS DEFLATE\r\n'), ...f.send('server', 'a2 OK DEFLATE active\r\n'),
      ...deflated('client', 'a3 SELECT INBOX\r\n'), ...deflated('server', '* 3 EXISTS\r\na3 OK [READ-WRITE] done\r\n'),
      ...deflated('client', 'a4 IDLE\r\n'), ...deflated('server', '+ idling\r\n'),
    ];
  };
  const answered: string[] = [];
  trackSessions(await idleConnections(3, false, '', compressing), { exchange: (ex) => { if (ex.conn === 0) answered.push(`${ex.command} ${ex.status}`); } }).end();
  assert.deepEqual(answered, ['LOGIN OK', 'COMPRESS OK', 'SELECT OK', 'IDLE null'], 'it is dissected after COMPRESS');
  const cost = await perConnectionBesidesSpareRings(compressing);
  for (const kind of ['Map', 'Set', 'function', 'weak', 'Array', 'buffer']) assert.equal(cost.kinds[kind] ?? 0, 0, `${kind} per connection (${JSON.stringify(cost)})`);
  assert.equal(cost.classes.RawInflater, 2, JSON.stringify(cost));
  assert.equal(cost.classes.ZStream ?? 0, 0, `no zlib stream while idle (${JSON.stringify(cost)})`);
});

test('FETCH tracking keeps nothing for a connection that selected a mailbox and fetched nothing', async () => {
  // A mailbox's numbers, as a SELECT or an IDLE tells them: no FETCH to map, no EXPUNGE to renumber.
  const numbers = '* 3 EXISTS\r\n* 0 RECENT\r\n';
  const plain = await perConnection(withSessions, false, numbers);
  const tracked = await perConnection(withFetchTracking, false, numbers);
  assert.deepEqual(tracked.classes, plain.classes, `per connection, with FETCH tracking ${JSON.stringify(tracked)}, without ${JSON.stringify(plain)}`);
  assert.equal(tracked.bytes, plain.bytes);
  // A FETCH does make the connection's numbering: the measure sees it.
  const fetched = await perConnection(withFetchTracking, false, '* 3 FETCH (UID 7 FLAGS ())\r\n');
  assert.ok(fetched.bytes > (await perConnection(withSessions, false, '* 3 FETCH (UID 7 FLAGS ())\r\n')).bytes);
});

test('the garbage collector agrees: 4,000 idle connections grow the heap by under 2.5 KiB each', async () => {
  const segments = await idleConnections(4000);
  await collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const held = withSessions(segments);
  await collectGarbage();
  const grown = (process.memoryUsage().heapUsed - before) / 4000;
  assert.ok(held.length > 0);
  assert.ok(grown < 2560, `${grown.toFixed(0)} bytes of heap per idle connection`);
});
