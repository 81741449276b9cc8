/**
 * A quiet connection's session rests in one object (RestingSession) and is woken at the connection's next bytes, gap
 * or close. Resting must change nothing the analysis reports: the same captures through the analysis's sink with and
 * without its `rest`, compared message by message, exchange by exchange and record by record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamCapture } from '../src/pipeline.js';
import type { Warning } from '../src/capture/types.js';
import type { Connection, StreamSink } from '../src/tcp/types.js';
import { ACKNOWLEDGED_HOLD_SECONDS } from '../src/tcp/ring-hold.js';
import { ImapSession, RestingSession, RestingTlsSession, SessionContext } from '../src/imap/session.js';
import { ConnectionTransport, type TransportOutput } from '../src/imap/transport.js';
import { recordedPieces } from '../bench/scale-captures.js';
import { fakeConnection } from './helpers/imap.js';
import { KeyLog } from '../src/tls/keylog.js';
import type { Exchange, ImapConnection } from '../src/imap/model.js';
import { ExchangeOrderer } from '../src/analysis/orderer.js';
import { sessionSink, type SessionSlot } from '../src/analysis/analyzer.js';
import { TcpFlow, writeCapture, type SynthPacket } from './helpers/synth.js';
import { CAPTURES, NO_PUBLIC, PUBLIC, hasPublic, unavailable } from './helpers/env.js';

interface Outcome {
  /** Every exchange as the orderer released it, with its connection's id. */
  exchanges: Exchange[];
  /** Every connection's record at its close. */
  records: ImapConnection[];
  /** Exchanges released and connections let go (once their last exchange had gone), in order. */
  events: string[];
  /** Every message framed, as its connection, side and lines. */
  messages: string[];
  /** Every warning, in order. */
  warnings: string[];
  /** How many times a session went to rest. */
  rests: number;
}

/**
 * When sessions are offered rest: never; when their connections go quiet (the tracker's StreamSink.rest); or after
 * every segment too, so that recordings shorter than the hold put their sessions to rest at every point they can.
 */
type Resting = 'never' | 'when quiet' | 'after every segment';

/** A capture through the pipeline into the analysis's sink, its sessions offered rest as `resting` says. */
async function analyse(path: string, resting: Resting, keys?: KeyLog): Promise<Outcome> {
  const exchanges: Exchange[] = [];
  const records: ImapConnection[] = [];
  const events: string[] = [];
  const orderer = new ExchangeOrderer<ImapConnection>((ex) => {
    exchanges.push(ex);
    events.push(`exchange ${ex.tag}`);
  }, () => {}, (info) => events.push(`drained ${info.conn.id}`));
  const warnings: string[] = [];
  const warn = (w: Warning) => warnings.push(`${w.frame} ${w.conn} ${w.message}`);
  const messages: string[] = [];
  const context = new SessionContext({
    opened: (ex, info) => orderer.opened(ex, info),
    exchange: (ex) => orderer.completed(ex),
    message: (m, info) => messages.push(`${info.conn.id} ${m.side} ${m.lines.join('|')}`),
  }, warn, { keys });
  const inner = sessionSink(context, {
    atOpen: false,
    started: () => {},
    closed: (info, newest, conn) => {
      records.push(info);
      orderer.ended(info, newest, conn.lastFrame);
    },
  });
  let rests = 0;
  const rest = (conn: Connection, slot: SessionSlot): SessionSlot | void => {
    const state = inner.rest!(conn, slot);
    if (state instanceof RestingSession) rests++;
    return state;
  };
  // A state data or gap returned, or else the one they were given, offered rest.
  const restAfter = (conn: Connection, slot: SessionSlot, state: SessionSlot | void) => rest(conn, state === undefined ? slot : state) ?? state;
  const sink: StreamSink<SessionSlot> = resting === 'never' ? { ...inner, rest: undefined } : resting === 'when quiet' ? { ...inner, rest } : {
    ...inner,
    rest,
    data: (conn, side, bytes, frame, time, slot) => restAfter(conn, slot, inner.data(conn, side, bytes, frame, time, slot)),
    gap: (conn, side, length, frame, time, slot) => restAfter(conn, slot, inner.gap(conn, side, length, frame, time, slot)),
  };
  await streamCapture(path, sink, warn, { ports: [143, 993] });
  orderer.flush();
  // Plain copies: the records are compared as the reports would read them.
  return { exchanges: structuredClone(exchanges), records: structuredClone(records), events, messages, warnings, rests };
}

/** Without rest and with it, compared; returns the run with it. */
async function sameEitherWay(path: string, resting: Resting = 'when quiet', keys?: KeyLog): Promise<Outcome> {
  const awake = await analyse(path, 'never', keys);
  const rested = await analyse(path, resting, keys);
  assert.equal(awake.rests, 0);
  assert.deepEqual(rested.exchanges, awake.exchanges, `${path}: exchanges`);
  assert.deepEqual(rested.records, awake.records, `${path}: connection records`);
  assert.deepEqual(rested.messages, awake.messages, `${path}: messages`);
  assert.deepEqual(rested.warnings, awake.warnings, `${path}: warnings`);
  assert.deepEqual(rested.events, awake.events, `${path}: exchanges and connections let go`);
  return rested;
}

const QUIET = ACKNOWLEDGED_HOLD_SECONDS + 20;

/**
 * A mail client that goes quiet at every stage a session can rest in: after its login (nothing outstanding), in an
 * IDLE (a push comes, then DONE), with a command the server is slow to answer, and in an APPEND whose literal it sends
 * long after the server's "+" (the client's turn). A second client idles alongside and is cut by the capture's end. A
 * third sends a NOOP every few seconds: the segments of other connections are what tell a quiet one that its time
 * has passed (as on a server's capture of many clients). A fourth rests with something noted (an answer without its
 * command), then sends bytes that would look like TLS at a connection's start. A fifth is TLS (IMAPS, no keys).
 */
function quietClients(): SynthPacket[] {
  const a = new TcpFlow({ client: { ip: '10.0.0.1', port: 50001 }, start: 1_700_000_000 });
  const b = new TcpFlow({ client: { ip: '10.0.0.2', port: 50002 }, start: 1_700_000_000.5 });
  const c = new TcpFlow({ client: { ip: '10.0.0.3', port: 50003 }, start: 1_700_000_000.7 });
  const quiet = (f: TcpFlow) => f.wait(QUIET);
  const d = new TcpFlow({ client: { ip: '10.0.0.4', port: 50004 }, start: 1_700_000_001 });
  const e = new TcpFlow({ client: { ip: '10.0.0.5', port: 50005 }, server: { ip: '10.0.0.2', port: 993 }, start: 1_700_000_001.5 });
  const packets: SynthPacket[] = [...a.handshake(), ...b.handshake(), ...c.handshake(), ...d.handshake(), ...e.handshake()];
  // IMAPS without keys: records the transport counts, before and after a quiet while.
  const record = (type: number, body: string) => Buffer.concat([Buffer.from([type, 3, 3, 0, body.length]), Buffer.from(body)]);
  packets.push(...e.send('client', record(22, 'hello')), ...e.send('server', record(22, 'world')));
  quiet(e);
  packets.push(...e.send('client', record(23, 'secret')), ...e.send('server', record(23, 'answer')));
  packets.push(...d.send('server', '* OK ready\r\nzz OK done\r\n'));
  quiet(d);
  packets.push(...d.send('client', '\x16\x03\x01\x00\x02hi\r\n'), ...d.send('server', 'zy OK done\r\n'));
  quiet(d);
  // Two commands outstanding while quiet; then half a line, the rest of it after a while.
  packets.push(...d.send('client', 'd1 NOOP\r\nd2 NOOP\r\n'));
  quiet(d);
  packets.push(...d.send('server', 'd1 OK\r\nd2 OK\r\n* 5 EXI'));
  quiet(d);
  packets.push(...d.send('server', 'STS\r\n'), ...d.send('client', 'd3 LOGOUT\r\n'), ...d.send('server', '* BYE\r\nd3 OK bye\r\n'), ...d.close('fin'));
  packets.push(...c.send('server', '* OK ready\r\n'));
  for (let i = 0; i < 40; i++) {
    c.wait(4);
    packets.push(...c.send('client', `c${i} NOOP\r\n`), ...c.send('server', `c${i} OK NOOP completed\r\n`));
  }
  // Never answered: at the end of the capture it is still outstanding, behind the second client's IDLE.
  packets.push(...c.send('client', 'c40 NOOP\r\n'));
  packets.push(...a.send('server', '* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n'));
  packets.push(...a.send('client', 'a1 LOGIN alice secret\r\n'), ...a.send('server', 'a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n'));
  quiet(a);
  packets.push(...a.send('client', 'a2 SELECT INBOX\r\n'));
  quiet(a);
  packets.push(...a.send('server', '* FLAGS (\\Seen)\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\na2 OK [READ-WRITE] Select completed\r\n'));
  packets.push(...a.send('client', 'a3 IDLE\r\n'), ...a.send('server', '+ idling\r\n'));
  quiet(a);
  packets.push(...a.send('server', '* 4 EXISTS\r\n'));
  quiet(a);
  packets.push(...a.send('client', 'DONE\r\n'), ...a.send('server', 'a3 OK Idle completed\r\n'));
  packets.push(...a.send('client', 'a4 UID FETCH 4 (FLAGS)\r\n'));
  quiet(a);
  packets.push(...a.send('server', '* 4 FETCH (UID 4 FLAGS ())\r\na4 OK Fetch completed\r\n'));
  packets.push(...a.send('client', 'a5 APPEND INBOX {12}\r\n'), ...a.send('server', '+ Ready for literal data\r\n'));
  quiet(a);
  packets.push(...a.send('client', 'Subject: x\r\n\r\n'), ...a.send('server', 'a5 OK Append completed\r\n'));
  packets.push(...a.send('client', 'a6 LOGOUT\r\n'), ...a.send('server', '* BYE\r\na6 OK Logout completed\r\n'), ...a.close('fin'));
  packets.push(...b.send('server', '* OK ready\r\n'), ...b.send('client', 'b1 LOGIN bob secret\r\n'), ...b.send('server', 'b1 OK Logged in\r\n'));
  packets.push(...b.send('client', 'b2 IDLE\r\n'), ...b.send('server', '+ idling\r\n'));
  return packets.sort((x, y) => Number(x.t) - Number(y.t));
}

test('a session that rests and is woken reports what one that never rests reports: IDLE, a slow answer, the client\'s turn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-resting-'));
  try {
    const path = join(dir, 'quiet.pcap');
    writeCapture(path, { format: 'pcap', packets: quietClients() });
    const { exchanges, records, events, messages, warnings, rests } = await sameEitherWay(path, 'when quiet');
    // The first client rested at each of its quiet stages but the APPEND's (its literal was on its way), the second in
    // its IDLE.
    assert.ok(rests >= 5, `${rests} rests`);
    const byTag = new Map(exchanges.map((ex) => [ex.tag, ex]));
    assert.equal(exchanges.filter((ex) => ex.conn === 2 && ex.status === 'OK').length, 40);
    assert.deepEqual(exchanges.filter((ex) => ex.command !== 'NOOP' && ex.conn < 3).map((ex) => `${ex.tag} ${ex.command} ${ex.status}`), [
      'a1 LOGIN OK', 'b1 LOGIN OK', 'b2 IDLE null', 'a2 SELECT OK', 'a3 IDLE OK', 'a4 UID FETCH OK', 'a5 APPEND OK', 'a6 LOGOUT OK',
    ]);
    const idle = byTag.get('a3')!;
    // The push while it rested is the IDLE's; the quiet time before DONE is the client's, not the server's latency.
    assert.deepEqual(idle.untaggedByType, { EXISTS: 1 });
    assert.ok(idle.idle?.firstPushAt && idle.idle.doneAt);
    assert.ok(Math.abs(idle.clientMs - 2 * QUIET * 1000) < 100, `IDLE clientMs ${idle.clientMs}`);
    assert.ok(Math.abs(byTag.get('a5')!.clientMs - QUIET * 1000) < 100, `APPEND clientMs ${byTag.get('a5')!.clientMs}`);
    assert.equal(byTag.get('a4')!.untagged, 1, 'the slow answer\'s FETCH is its command\'s');
    const alice = records.find((r) => r.user === 'alice')!;
    assert.equal(alice.selected?.exists, 4, 'the push reached the selected mailbox');
    assert.equal(alice.unsolicited, 0);
    assert.equal(alice.selected?.uidValidity, 7, 'the slow SELECT\'s mailbox');
    // The fourth: its bytes stayed plain IMAP, and both answers without a command were counted in one warning.
    assert.equal(records.find((r) => r.conn.id === 3)!.tls, null);
    assert.ok(warnings.some((w) => w.endsWith('2 tagged response(s) had no request in the capture; they were paired by tag alone')), warnings.join('\n'));
    assert.deepEqual(exchanges.filter((ex) => ex.conn === 3).map((ex) => `${ex.tag} ${ex.status}`), ['zz OK', 'zy OK', 'd1 OK', 'd2 OK', 'd3 OK']);
    assert.ok(messages.includes('3 server * 5 EXISTS'), 'the line cut while it was quiet, whole');
    // At the end the second client's IDLE goes out, and the second client with it (its newest exchange), before the
    // unanswered NOOP that held back the first client's last commands.
    assert.deepEqual(events.slice(-7), ['drained 1', 'exchange c40', 'exchange a5', 'exchange a6', 'drained 0', 'drained 2', 'drained 4']);
    // The fifth stayed TLS throughout: nothing of it was read as IMAP.
    const imaps = records.find((r) => r.conn.id === 4)!;
    assert.equal(imaps.tls?.how, 'implicit');
    assert.equal(imaps.commands, 0);
    assert.ok(!warnings.some((w) => w.includes(' 4 ') && /unrecognised|could not be framed/.test(w)), warnings.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('recorded captures read the same with their sessions put to rest after every segment they can rest at', async () => {
  const captures = readdirSync(CAPTURES).filter((f) => /\.pcap(ng)?$/.test(f));
  assert.ok(captures.length >= 8);
  for (const name of captures) {
    const { rests } = await sameEitherWay(join(CAPTURES, name), 'after every segment');
    // Shorter than the hold, they rest only when offered after a segment; a TLS session without keys rests too.
    assert.ok(rests > 0, `${name}: ${rests} rests`);
  }
});

/** Each TLS recording with each of its key logs; the public one when there. */
function decryptedRecordings(): [capture: string, keys: string][] {
  const recorded = readdirSync(CAPTURES).filter((f) => f.endsWith('.keys')).map((k): [string, string] => [join(CAPTURES, k.replace(/\..*$/, '.pcap')), join(CAPTURES, k)]);
  const lekensteyn: [string, string] = [join(PUBLIC, 'lekensteyn-imap-ssl.pcapng'), join(PUBLIC, 'lekensteyn-imap-ssl.keys')];
  return hasPublic ? [...recorded, lekensteyn] : recorded;
}

test('TLS recordings decrypted with their key logs read the same with their sessions put to rest after every segment', async () => {
  const recordings = decryptedRecordings();
  // TLS 1.3 with every secret and with the application secrets alone (each direction's first record found by trial),
  // TLS 1.2 after STARTTLS.
  assert.ok(recordings.length >= 3, recordings.join(', '));
  for (const [capture, keyFile] of recordings) {
    const keys = KeyLog.parse(readFileSync(keyFile, 'utf8'));
    const { records, rests, exchanges } = await sameEitherWay(capture, 'after every segment', keys);
    assert.ok(records.some((r) => r.tls?.decrypted), `${capture} with ${keyFile}: decrypted`);
    assert.ok(exchanges.length > 0, `${capture}: exchanges`);
    // Decrypted, they rest between records: at least once per command answered after TLS began.
    const afterTls = exchanges.filter((ex) => records.find((r) => r.conn.id === ex.conn)!.tls!.frame < (ex.requestFrame ?? 0)).length;
    assert.ok(rests >= afterTls, `${capture} with ${keyFile}: ${rests} rests for ${afterTls} commands`);
  }
});

test('public captures read the same with sessions resting when quiet, and after every segment', { skip: unavailable(!hasPublic && NO_PUBLIC) }, async () => {
  let rests = 0;
  for (const name of readdirSync(PUBLIC).filter((f) => /\.(pcap|pcapng|cap)$/.test(f))) {
    rests += (await sameEitherWay(join(PUBLIC, name))).rests;
    await sameEitherWay(join(PUBLIC, name), 'after every segment');
  }
  // Several of them pause for longer than the hold (logins tried one after another, a mailbox left open).
  assert.ok(rests > 0, `${rests} rests`);
});

test('a session rests only once its first bytes are seen, and a TLS transport only with its hellos read and no COMPRESS', async () => {
  const context = new SessionContext({ exchange: () => {} }, () => {});
  const session = new ImapSession(fakeConnection(), context);
  assert.equal(session.rest(), null, 'before its first bytes, it is not known to be plain IMAP or TLS');
  const pieces = await recordedPieces(join(CAPTURES, 'imaps-tls13.pcap'), 993, 1, 23);
  const [clientHello, serverHello] = [pieces.find(([side]) => side === 'client')![1], pieces.find(([side]) => side === 'server')![1]];
  session.data('client', clientHello, 4, fakeConnection().start);
  assert.equal(session.rest(), null, 'the server\'s hello is still to be read');
  session.data('server', serverHello, 6, fakeConnection().start);
  const resting = session.rest();
  assert.ok(resting instanceof RestingTlsSession && resting.decryptor === null, 'TLS, nothing decrypted (no key log)');
  const woken = ImapSession.woken(resting, context);
  assert.equal(woken.info.tls?.version, 'TLS 1.3');
  assert.ok(woken.rest() instanceof RestingTlsSession, 'woken, it is TLS again');
  // COMPRESS within TLS (only a decrypted connection can say it): the inflaters' state is the transport's own.
  const out: TransportOutput = { info: woken.info, keys: null, imap: (_side, bytes) => bytes.length, imapGap: () => {}, marker: () => {}, warn: () => {} };
  const transport = new ConnectionTransport(out);
  transport.startTls('implicit', 1);
  transport.data('client', clientHello, 4, fakeConnection().start);
  transport.data('server', serverHello, 6, fakeConnection().start);
  assert.equal(transport.rest(), null);
  transport.startCompression(8);
  assert.equal(transport.rest(), undefined);
});
