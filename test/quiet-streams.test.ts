/**
 * A quiet connection's streams kept as numbers (QuietStreams, src/tcp/half-stream.ts): once neither direction keeps a
 * ring, a hole, a FIN or a gap count, the conversation keeps one object for both directions, and makes its streams
 * again at its next segment or its end. What the connection delivers, the gaps it reports, its counts and its end
 * must be what the streams would have given had they been kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Segment } from '../src/decode/types.js';
import { TcpTracker } from '../src/tcp/tracker.js';
import { HalfStream, QuietStreams, type HalfStreamOwner } from '../src/tcp/half-stream.js';
import { RingPool } from '../src/tcp/recent-bytes.js';
import { ACKNOWLEDGED_HOLD_SECONDS } from '../src/tcp/ring-hold.js';
import type { Connection, StreamSink } from '../src/tcp/types.js';
import { TcpFlow, type SynthPacket } from './helpers/synth.js';
import { segmentsOf } from './helpers/segments.js';
import { footprint } from './helpers/footprint.js';

const T0 = 1_700_000_000;
const answer = `* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n${'x'.repeat(3000)}\r\na1 OK FETCH done\r\n`;

/**
 * Two connections that talk, then stay quiet for `quiet` seconds (another conversation's SYNs move the clock past the
 * hold meanwhile). The first goes on afterwards: a retransmission of an answer it had, a command, its answer and FINs.
 * The second's answer ends in a segment the capture missed but the client acknowledged: at the end of the capture that
 * is a gap, known only from the acknowledgement; its client sends a keep-alive before the quiet ends. Returns the
 * segments, and how many come before the quiet ends.
 */
async function conversation(quiet: number): Promise<{ segments: Segment[]; beforeWake: number }> {
  const first = new TcpFlow({ client: { ip: '10.0.0.1', port: 50001 }, server: { ip: '10.0.0.9', port: 143 }, start: T0, clientIsn: 0xfffff000 });
  const second = new TcpFlow({ client: { ip: '10.0.0.2', port: 50002 }, server: { ip: '10.0.0.9', port: 143 }, start: T0 + 0.5, serverIsn: 0x7ffff000 });
  const other = new TcpFlow({ client: { ip: '10.0.0.3', port: 50003 }, server: { ip: '10.0.0.9', port: 80 }, start: T0 + 1 });
  const packets: SynthPacket[] = [];
  for (const f of [first, second]) packets.push(...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 'a1 UID FETCH 7 FLAGS\r\n'));
  const answered = first.send('server', answer);
  packets.push(...answered);
  // The second's answer: its last segment reached the client (which acknowledged it), not the capture.
  packets.push(...second.send('server', answer, (i) => (i === 2 ? 'unseen' : 'ok')));
  const [syn] = other.handshake();
  for (let t = 5; t <= quiet; t += 5) packets.push({ ...syn!, t: T0 + t });
  // A keep-alive from the second's client near the end of the quiet: one old byte, nothing delivered.
  const alive = second.send('client', 'x')[0]!;
  packets.push({ ...alive, seq: (alive.seq - 1) >>> 0, payload: Buffer.from([0]), t: T0 + quiet - 1 });
  const beforeWake = packets.length;
  first.wait(quiet);
  const again = answered.find((p) => p.payload !== undefined)!;
  packets.push({ ...again, t: first.now }); // a retransmission of bytes delivered before the quiet
  packets.push(...first.send('client', 'a2 LOGOUT\r\n'), ...first.send('server', '* BYE\r\na2 OK bye\r\n'), ...first.close('fin'));
  return { segments: await segmentsOf(packets), beforeWake };
}

/** What a sink saw of each connection: its bytes by side as text, its gaps, and its record at the close. */
function recorder(): { sink: StreamSink<null>; seen: Map<number, { client: string; server: string; closed: string }> } {
  const seen = new Map<number, { client: string; server: string; closed: string }>();
  const of = (conn: Connection) => seen.get(conn.id) ?? seen.set(conn.id, { client: '', server: '', closed: '' }).get(conn.id)!;
  const sink: StreamSink<null> = {
    open: () => null,
    data: (conn, side, bytes) => { of(conn)[side] += bytes.toString('latin1'); },
    gap: (conn, side, length) => { of(conn)[side] += `[gap ${length}]`; },
    close: (conn, reason) => { of(conn).closed = `${reason} ${conn.state} ${JSON.stringify(conn.stats)}`; },
  };
  return { sink, seen };
}

function run(segments: Segment[], until = segments.length): { tracker: TcpTracker<null>; seen: ReturnType<typeof recorder>['seen']; warnings: string[] } {
  const { sink, seen } = recorder();
  const warnings: string[] = [];
  const tracker = new TcpTracker(sink, (w) => warnings.push(`${w.frame}: ${w.message}`), { ports: new Set([143]), maxHeldBytes: 1 << 20 });
  for (const seg of segments.slice(0, until)) tracker.segment(seg);
  return { tracker, seen, warnings };
}

test('a quiet connection keeps its streams as numbers, and goes on from them as if it had kept the streams', async () => {
  const { segments, beforeWake } = await conversation(30);
  // Quiet: neither connection keeps a stream, each one QuietStreams (the second again after its keep-alive).
  const { tracker: quietTracker } = run(segments, beforeWake);
  const quiet = footprint([quietTracker]);
  assert.equal(quiet.classes.HalfStream ?? 0, 0, JSON.stringify(quiet.classes));
  assert.equal(quiet.classes.QuietStreams, 2, JSON.stringify(quiet.classes));

  const { tracker, seen, warnings } = run(segments);
  tracker.end();
  const first = seen.get(0)!;
  const second = seen.get(1)!;
  // Woken, the first delivers what follows, the retransmission once, and closes with both FINs.
  assert.equal(first.client, 'a1 UID FETCH 7 FLAGS\r\na2 LOGOUT\r\n');
  assert.equal(first.server, `* OK ready\r\n${answer}* BYE\r\na2 OK bye\r\n`);
  const firstBytes = { client: first.client.length, server: first.server.length };
  assert.equal(first.closed, `closed closed ${JSON.stringify({ client: { bytes: firstBytes.client, gaps: 0, gapBytes: 0 }, server: { bytes: firstBytes.server, gaps: 0, gapBytes: 0 } })}`);
  // The second's missed segment is a gap at the end of the capture: what the client acknowledged was kept as a number.
  const missed = answer.length - 2 * 1448;
  assert.equal(second.server, `* OK ready\r\n${answer.slice(0, 2 * 1448)}[gap ${missed}]`);
  assert.match(second.closed, /^end-of-capture open /);
  assert.deepEqual(JSON.parse(second.closed.replace(/^end-of-capture open /, '')).server, { bytes: 12 + 2 * 1448, gaps: 1, gapBytes: missed });
  assert.deepEqual(warnings.map((w) => w.replace(/^\d+: /, '')), [`connection 1 server→client: ${missed} bytes missing from the capture (lost or cut); the stream continues after them`]);
});

test('the same connections never quiet long enough to rest give the same bytes, gaps, counts and ends', async () => {
  const rested = run((await conversation(30)).segments);
  rested.tracker.end();
  // Five seconds of quiet: shorter than the hold, the streams are kept.
  const { segments, beforeWake } = await conversation(5);
  const kept = run(segments, beforeWake);
  assert.equal(footprint([kept.tracker]).classes.QuietStreams ?? 0, 0, 'five seconds are not quiet enough');
  const awake = run(segments);
  awake.tracker.end();
  assert.deepEqual([...rested.seen], [...awake.seen]);
  assert.deepEqual(rested.warnings.map((w) => w.replace(/^\d+: /, '')), awake.warnings.map((w) => w.replace(/^\d+: /, '')));
});

test('a stream made again from its numbers is the stream it was: its side, place, acknowledgement and count', () => {
  const events: string[] = [];
  const owner: HalfStreamOwner = {
    limits: { maxHeldBytes: 1 << 20 }, rings: new RingPool(),
    deliver: (side, bytes) => events.push(`${side} ${bytes.toString('latin1')}`),
    gap: (side, length) => events.push(`${side} gap ${length}`),
    warn: (side, _frame, message) => events.push(`${side} warns: ${message}`),
  };
  const client = new HalfStream(owner, 'client');
  const server = new HalfStream(owner, 'server');
  client.syn(100);
  server.syn(-5); // a sequence number past 2^31, as kept
  client.segment(101, Buffer.from('a1 NOOP\r\n'), 0, false, 1);
  server.segment(-4, Buffer.from('a1 OK\r\n'), 0, false, 2);
  // The client acknowledged seven bytes more than the capture holds of the server.
  server.peerAck(-4 + 7 + 7, 3, 0);
  client.peerAck(110, 4, 0);
  assert.equal(HalfStream.quiet(client, server), null, 'each keeps its ring through the hold');
  // The hold passed: numbers are all they keep.
  owner.rings.hold.due(ACKNOWLEDGED_HOLD_SECONDS);
  const quiet = HalfStream.quiet(client, server);
  assert.ok(quiet instanceof QuietStreams);
  const woken = { client: HalfStream.woken(owner, 'client', quiet)!, server: HalfStream.woken(owner, 'server', quiet)! };
  assert.equal(woken.client.side, 'client');
  assert.equal(woken.server.side, 'server');
  assert.deepEqual(woken.client.counts(), client.counts());
  assert.deepEqual(woken.server.counts(), server.counts());
  // Each goes on as the original would: a retransmission is not delivered again, new bytes follow, the missing bytes
  // the client acknowledged are a gap at the end.
  const goOn = (c: HalfStream, s: HalfStream): string[] => {
    events.length = 0;
    c.segment(101, Buffer.from('a1 NOOP\r\n'), 0, false, 5);
    c.segment(110, Buffer.from('a2 LOGOUT\r\n'), 0, true, 6);
    s.flush(7);
    assert.ok(c.finished);
    return [...events];
  };
  const before = goOn(client, server);
  assert.deepEqual(before, ['client a2 LOGOUT\r\n', 'server gap 7']);
  assert.deepEqual(goOn(woken.client, woken.server), before);
  assert.deepEqual(woken.client.counts(), client.counts());
  assert.deepEqual(woken.server.counts(), server.counts());
});

test('a stream that keeps more than its numbers keeps its streams: a ring, a FIN, a hole', () => {
  const owner: HalfStreamOwner = { limits: { maxHeldBytes: 1 << 20 }, rings: new RingPool(), deliver: () => {}, gap: () => {}, warn: () => {} };
  const stream = (what: 'ring' | 'fin' | 'hole' | 'none', side: 'client' | 'server' = 'client'): HalfStream => {
    const half = new HalfStream(owner, side);
    half.syn(0);
    half.segment(what === 'hole' ? 5 : 1, Buffer.from('data'), 0, what === 'fin', 1);
    if (what !== 'ring') half.releaseRing(null);
    return half;
  };
  assert.ok(HalfStream.quiet(stream('none'), null) instanceof QuietStreams, 'a direction with no stream rests with the other');
  assert.equal(HalfStream.quiet(null, null), null, 'no stream at all: nothing to keep');
  for (const what of ['ring', 'fin', 'hole'] as const) {
    assert.equal(HalfStream.quiet(stream(what), stream('none')), null, what);
    assert.equal(HalfStream.quiet(stream('none'), stream(what)), null, what);
  }
  const lone = HalfStream.quiet(null, stream('none', 'server'))!;
  assert.equal(HalfStream.woken(owner, 'client', lone), null, 'the direction without a stream still has none');
  assert.equal(HalfStream.woken(owner, 'server', lone)!.side, 'server');
});
