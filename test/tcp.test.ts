/**
 * TCP reassembly end to end (capture file → decoder → TcpTracker → StreamSink) on synthetic captures, with a
 * sink that records every event. Where tshark is installed, stream ids and followed bytes are compared with it.
 */
import { NO_TSHARK, skipIfMissing } from './helpers/env.js';
import { seededRandom } from './helpers/random.js';
import { collectGarbage } from './helpers/gc.js';
import { bytes } from './helpers/data.js';
import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Warning } from '../src/capture/types.js';
import { collectStreams } from '../src/analysis/streams.js';
import { streamCapture } from '../src/pipeline.js';
import { EndingCollections, inUse } from '../src/util/ending-collections.js';
import { generateScaleCapture } from '../bench/scale-captures.js';
import type { Connection, EndState, LateChanges, Side, StreamSink, TimePoint } from '../src/tcp/types.js';
import { HalfStream, MAX_HELD_SEGMENTS, placeAfterEqual, seqDiff, type HalfStreamOwner } from '../src/tcp/half-stream.js';
import { RingPool } from '../src/tcp/recent-bytes.js';
import { ACKNOWLEDGED_HOLD_SECONDS, MAX_HOLDING, RingHold } from '../src/tcp/ring-hold.js';
import { ENDED_LINGER_FRAMES, ENDED_LINGER_SECONDS, MIN_ADDRESS_SWEEP, SMALL_ADDRESS_IDS, TcpTracker } from '../src/tcp/tracker.js';
import { readCapture } from '../src/capture/reader.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import {
  TcpFlow,
  tcpConversation,
  toNs,
  writeCapture,
  type ConversationOptions,
  type SynthCapture,
  type SynthPacket,
} from './helpers/synth.js';

const HAVE_TSHARK = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'imapscope-tcp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function write(c: SynthCapture): string {
  const path = join(dir, `t${fileCount++}.${c.format}`);
  writeCapture(path, c);
  return path;
}


// ---------------------------------------------------------------------------------------------------------------
// Recording sink

type Event =
  | { kind: 'open'; id: number }
  | { kind: 'data'; id: number; side: Side; bytes: Buffer; frame: number; time: TimePoint }
  | { kind: 'gap'; id: number; side: Side; length: number; frame: number; time: TimePoint }
  | { kind: 'close'; id: number; reason: EndState | 'end-of-capture' };

class Recorder implements StreamSink {
  readonly events: Event[] = [];
  readonly conns: Connection[] = [];
  open(conn: Connection): void {
    this.conns.push(conn);
    this.events.push({ kind: 'open', id: conn.id });
  }
  data(conn: Connection, side: Side, bytes: Buffer, frame: number, time: TimePoint): void {
    this.events.push({ kind: 'data', id: conn.id, side, bytes: Buffer.from(bytes), frame, time: { ...time } });
  }
  gap(conn: Connection, side: Side, length: number, frame: number, time: TimePoint): void {
    this.events.push({ kind: 'gap', id: conn.id, side, length, frame, time: { ...time } });
  }
  close(conn: Connection, reason: EndState | 'end-of-capture'): void {
    this.events.push({ kind: 'close', id: conn.id, reason });
  }
  /** Retirements: what they said, and how many connections had opened by then. */
  readonly retirements: { id: number; lastFrame: number; opened: number }[] = [];
  /** The same, in full (the end's time as said). */
  readonly lates: LateChanges[] = [];
  retired(late: LateChanges): void {
    assert.ok(this.events.some((e) => e.kind === 'close' && e.id === late.id), `connection ${late.id} is retired after its close`);
    this.retirements.push({ id: late.id, lastFrame: late.lastFrame, opened: this.conns.length });
    this.lates.push({ id: late.id, lastFrame: late.lastFrame, end: { ...late.end } });
  }

  conn(id: number): Connection {
    const c = this.conns.find((x) => x.id === id);
    assert.ok(c, `connection ${id} was opened`);
    return c;
  }

  /** One direction as data pieces (adjacent deliveries merged) and gap lengths. */
  pieces(id: number, side: Side): Piece[] {
    const out: Piece[] = [];
    for (const e of this.events) {
      if (e.id !== id || (e.kind !== 'data' && e.kind !== 'gap') || e.side !== side) continue;
      if (e.kind === 'gap') out.push(e.length);
      else out.push(e.bytes);
    }
    return normalise(out);
  }

  closeReason(id: number): string {
    const closes = this.events.filter((e): e is Extract<Event, { kind: 'close' }> => e.kind === 'close' && e.id === id);
    assert.equal(closes.length, 1, `connection ${id} closed exactly once`);
    return closes[0]!.reason;
  }
}

/** A stream: bytes, or a number of missing bytes. */
type Piece = Buffer | number;

function normalise(list: (Buffer | string | number)[]): Piece[] {
  const out: Piece[] = [];
  for (const p of list) {
    const item = typeof p === 'string' ? Buffer.from(p, 'latin1') : p;
    if (typeof item !== 'number' && item.length === 0) continue;
    const last = out[out.length - 1];
    if (typeof item !== 'number' && last !== undefined && typeof last !== 'number') out[out.length - 1] = Buffer.concat([last, item]);
    else if (typeof item === 'number' && typeof last === 'number') out[out.length - 1] = last + item;
    else out.push(item);
  }
  return out;
}

/** Readable comparison: buffers as latin1 strings, gaps as {gap: n}. */
function show(p: Piece[]): (string | { gap: number })[] {
  return p.map((x) => (typeof x === 'number' ? { gap: x } : x.toString('latin1')));
}

function assertPieces(actual: Piece[], expected: (Buffer | string | number)[], what: string): void {
  assert.deepEqual(show(actual), show(normalise(expected)), what);
}

/** Life-cycle rules every connection must follow, and stats that agree with the events. */
function checkInvariants(rec: Recorder): void {
  for (const conn of rec.conns) {
    const evs = rec.events.filter((e) => e.id === conn.id);
    assert.equal(evs[0]!.kind, 'open', `connection ${conn.id}: open comes first`);
    assert.equal(evs.filter((e) => e.kind === 'open').length, 1, `connection ${conn.id}: one open`);
    assert.equal(evs[evs.length - 1]!.kind, 'close', `connection ${conn.id}: close comes last`);
    assert.equal(evs.filter((e) => e.kind === 'close').length, 1, `connection ${conn.id}: one close`);
    // Retired once, by the end of the input, with the record's final last frame and end.
    assert.deepEqual(rec.lates.filter((l) => l.id === conn.id), [{ id: conn.id, lastFrame: conn.lastFrame, end: conn.end }], `connection ${conn.id}: retired once, final`);
    for (const side of ['client', 'server'] as const) {
      const mine = evs.filter((e) => (e.kind === 'data' || e.kind === 'gap') && e.side === side) as Extract<Event, { side: Side }>[];
      const data = mine.filter((e) => e.kind === 'data') as Extract<Event, { kind: 'data' }>[];
      const gaps = mine.filter((e) => e.kind === 'gap') as Extract<Event, { kind: 'gap' }>[];
      assert.equal(conn.stats[side].bytes, data.reduce((n, e) => n + e.bytes.length, 0), `connection ${conn.id} ${side}: byte count`);
      assert.equal(conn.stats[side].gaps, gaps.length, `connection ${conn.id} ${side}: gap count`);
      assert.equal(conn.stats[side].gapBytes, gaps.reduce((n, e) => n + e.length, 0), `connection ${conn.id} ${side}: gap bytes`);
      for (const e of mine) {
        assert.ok(e.frame >= conn.firstFrame && e.frame <= conn.lastFrame, `connection ${conn.id}: event frame ${e.frame} inside the connection`);
        if (e.kind === 'data') assert.ok(e.bytes.length > 0, 'no empty deliveries');
        else assert.ok(e.length > 0, 'no empty gaps');
      }
      for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.frame >= mine[i - 1]!.frame, `connection ${conn.id} ${side}: frames never go back`);
    }
  }
}

interface Run {
  path: string;
  rec: Recorder;
  warnings: Warning[];
  packets: SynthPacket[];
}

async function run(packets: SynthPacket[], o: { maxHeldBytes?: number; ports?: number[]; maxLingering?: number } = {}): Promise<Run> {
  const path = write({ format: 'pcap', packets });
  const rec = new Recorder();
  const warnings: Warning[] = [];
  await streamCapture(path, rec, (w) => warnings.push(w), { ports: o.ports ?? [143], maxHeldBytes: o.maxHeldBytes, maxLingering: o.maxLingering });
  checkInvariants(rec);
  return { path, rec, warnings, packets };
}

/** The concatenated data of each side, as the conversation wrote it. */
function written(o: ConversationOptions): Record<Side, Buffer> {
  const of = (side: Side) => Buffer.concat(o.exchanges.filter((x) => x.from === side).map((x) => (typeof x.data === 'string' ? Buffer.from(x.data, 'latin1') : x.data)));
  return { client: of('client'), server: of('server') };
}

const GREETING = '* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n';
const LOGIN = 'a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n';

/** A typical exchange: greeting, two commands, a big multi-segment response (5 segments at MSS 1448), logout. */
function exchanges(big = bytes(6000, 1)): ConversationOptions['exchanges'] {
  return [
    { from: 'server', data: GREETING },
    { from: 'client', data: LOGIN },
    { from: 'server', data: big },
    { from: 'client', data: 'a3 LOGOUT\r\n' },
    { from: 'server', data: '* BYE\r\na3 OK\r\n' },
  ];
}

/** Index (0-based, as ConversationKnobs count data segments) of segment `n` of the big response in exchanges(). */
function bigSeg(n: number): number {
  return 2 + n; // greeting = 0, login = 1, then the big response
}

// ---------------------------------------------------------------------------------------------------------------
// tshark

interface TsharkFollow {
  client: Piece[];
  server: Piece[];
}

/** tshark's tcp.stream per frame (frames without TCP get NaN). */
function tsharkStreamIds(path: string): number[] {
  const r = spawnSync('tshark', ['-r', path, '-T', 'fields', '-e', 'tcp.stream'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1).map((l) => (l === '' ? NaN : Number(l)));
}

/** `-z follow,tcp,raw,ID`, keeping tshark's "[N bytes missing in capture file]" markers as gaps. */
function tsharkFollow(path: string, id: number, clientPort: number): TsharkFollow {
  const r = spawnSync('tshark', ['-r', path, '-q', '-z', `follow,tcp,raw,${id}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const node0: Buffer[] = [];
  const node1: Buffer[] = [];
  let node0Port = -1;
  for (const line of r.stdout.split('\n')) {
    const m = /^Node 0: .*:(\d+)$/.exec(line.trim());
    if (m) node0Port = Number(m[1]);
    if (/^\t?[0-9a-f]+$/.test(line)) (line.startsWith('\t') ? node1 : node0).push(Buffer.from(line.trim(), 'hex'));
  }
  const split = (chunks: Buffer[]): Piece[] => {
    const text = Buffer.concat(chunks).toString('latin1');
    const out: (Buffer | number)[] = [];
    const re = /\[(\d+) bytes missing in capture file\]\0/g;
    let at = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      out.push(Buffer.from(text.slice(at, m.index), 'latin1'), Number(m[1]));
      at = m.index + m[0].length;
    }
    out.push(Buffer.from(text.slice(at), 'latin1'));
    return normalise(out);
  };
  assert.ok(node0Port > 0, `tshark follow of stream ${id} names its nodes`);
  const a = split(node0);
  const b = split(node1);
  return node0Port === clientPort ? { client: a, server: b } : { client: b, server: a };
}

/**
 * tshark agrees: the frames of every connection carry its id as tcp.stream (first and last frame included), no
 * other frame on the IMAP ports has another id, and follow,tcp,raw gives the same bytes and gaps per direction.
 */
async function agreeWithTshark(t: TestContext, r: Run, name = 'tshark agrees'): Promise<void> {
  await t.test(name, (st) => {
    if (skipIfMissing(st, !HAVE_TSHARK && NO_TSHARK)) return;
    tsharkAgrees(r);
  });
}

function tsharkAgrees(r: Run): void {
  const ids = tsharkStreamIds(r.path);
  assert.equal(ids.length, r.packets.length, 'tshark sees every frame');
  const imapIds = new Set<number>();
  r.packets.forEach((p, i) => {
    if (p.sport === 143 || p.dport === 143) imapIds.add(ids[i]!);
  });
  assert.deepEqual([...imapIds].sort((a, b) => a - b), r.rec.conns.map((c) => c.id).sort((a, b) => a - b), 'IMAP stream ids');
  for (const c of r.rec.conns) {
    const frames = ids.map((id, i) => (id === c.id ? i + 1 : -1)).filter((n) => n > 0);
    assert.equal(frames[0], c.firstFrame, `connection ${c.id}: first frame`);
    assert.equal(frames[frames.length - 1], c.lastFrame, `connection ${c.id}: last frame`);
    const theirs = tsharkFollow(r.path, c.id, c.client.port);
    assert.deepEqual(show(r.rec.pieces(c.id, 'client')), show(theirs.client), `connection ${c.id}: client bytes as tshark follows them`);
    assert.deepEqual(show(r.rec.pieces(c.id, 'server')), show(theirs.server), `connection ${c.id}: server bytes as tshark follows them`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tests

test('in-order delivery equals what each side wrote, over IPv4 and IPv6, with frames and times of the segments', async (t) => {
  for (const v6 of [false, true]) {
    const o: ConversationOptions = {
      exchanges: exchanges(),
      ...(v6 ? { client: { ip: '2001:db8::10', port: 51234 }, server: { ip: '2001:db8::20', port: 143 } } : {}),
    };
    const packets = tcpConversation(o);
    const r = await run(packets);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.rec.conns.length, 1);
    const c = r.rec.conn(0);
    const want = written(o);
    assertPieces(r.rec.pieces(0, 'client'), [want.client], 'client');
    assertPieces(r.rec.pieces(0, 'server'), [want.server], 'server');
    assert.deepEqual(c.client, v6 ? { ip: '2001:db8::10', port: 51234 } : { ip: '10.0.0.1', port: 50000 });
    assert.deepEqual(c.server, v6 ? { ip: '2001:db8::20', port: 143 } : { ip: '10.0.0.2', port: 143 });
    assert.equal(c.sawSyn, true);
    assert.equal(c.state, 'closed');
    assert.equal(r.rec.closeReason(0), 'closed');
    assert.equal(c.firstFrame, 1);
    assert.equal(c.lastFrame, packets.length);
    const first = toNs(packets[0]!.t);
    assert.deepEqual(c.start, { sec: Number(first / 1_000_000_000n), nsec: Number(first % 1_000_000_000n), digits: 6 });
    // Every delivery is exactly the payload of the frame it names, stamped with that frame's time.
    for (const e of r.rec.events) {
      if (e.kind !== 'data') continue;
      const p = packets[e.frame - 1]!;
      assert.deepEqual(e.bytes, Buffer.from(p.payload as Buffer | string), `frame ${e.frame} payload`);
      assert.equal(e.side, p.sport === 143 ? 'server' : 'client');
      const ns = toNs(p.t);
      assert.deepEqual(e.time, { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n), digits: 6 });
    }
    await agreeWithTshark(t, r);
  }
});

test('out-of-order segments are delivered in sequence order, each once, with no gap', async (t) => {
  const o: ConversationOptions = {
    exchanges: exchanges(bytes(12000, 2)),
    // Big response: segments 1 and 4 arrive after their successors; the client's LOGIN is not reordered.
    fate: (x, s) => (x === 2 && (s === 1 || s === 4) ? 'late' : 'ok'),
  };
  const packets = tcpConversation(o);
  const order = packets.filter((p) => p.sport === 143 && p.payload).map((p) => p.seq);
  assert.ok(order.some((s, i) => i > 0 && ((s - order[i - 1]!) | 0) < 0), 'the capture really is out of order');
  const r = await run(packets);
  assert.deepEqual(r.warnings, []);
  const want = written(o);
  assertPieces(r.rec.pieces(0, 'client'), [want.client], 'client');
  assertPieces(r.rec.pieces(0, 'server'), [want.server], 'server');
  assert.equal(r.rec.conn(0).stats.server.gaps, 0);
  await agreeWithTshark(t, r);
});

test('a retransmission with the same bytes is delivered once, without a warning', async (t) => {
  const o: ConversationOptions = { exchanges: exchanges(), retransmit: [{ seg: bigSeg(1) }, { seg: bigSeg(3), after: 3 }, { seg: 1 }] };
  const packets = tcpConversation(o);
  const r = await run(packets);
  assert.deepEqual(r.warnings, []);
  const want = written(o);
  assertPieces(r.rec.pieces(0, 'client'), [want.client], 'client');
  assertPieces(r.rec.pieces(0, 'server'), [want.server], 'server');
  await agreeWithTshark(t, r);
});

test('a retransmission with different bytes: the first copy is kept and a warning names the frame', async () => {
  const other = bytes(1448, 99);
  const o: ConversationOptions = { exchanges: exchanges(), retransmit: [{ seg: bigSeg(2), after: 2, payload: other }] };
  const packets = tcpConversation(o);
  const copyFrame = packets.findIndex((p) => p.payload === other) + 1;
  assert.ok(copyFrame > 0);
  const r = await run(packets);
  const want = written(o);
  assertPieces(r.rec.pieces(0, 'server'), [want.server], 'server: first copy');
  assertPieces(r.rec.pieces(0, 'client'), [want.client], 'client');
  assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
  assert.equal(r.warnings[0]!.frame, copyFrame);
  assert.equal(r.warnings[0]!.conn, 0);
  assert.match(r.warnings[0]!.message, /differs/);
});

test('overlapping segments: shared bytes delivered once; disagreeing overlap keeps the first copy and warns', async (t) => {
  // Agreeing overlap: segment 3 of the response starts 100 bytes early, segment 2 of it 1 byte early.
  const same: ConversationOptions = { exchanges: exchanges(), overlap: [{ seg: bigSeg(3), back: 100 }, { seg: bigSeg(2), back: 1 }] };
  const samePackets = tcpConversation(same);
  const r1 = await run(samePackets);
  assert.deepEqual(r1.warnings, []);
  assertPieces(r1.rec.pieces(0, 'server'), [written(same).server], 'agreeing overlap');
  await agreeWithTshark(t, r1);

  // Disagreeing overlap: 100 bytes of '~' in front of segment 3.
  const diff: ConversationOptions = { exchanges: exchanges(), overlap: [{ seg: bigSeg(3), back: 100, fill: 0x7e }] };
  const diffPackets = tcpConversation(diff);
  const r2 = await run(diffPackets);
  assertPieces(r2.rec.pieces(0, 'server'), [written(diff).server], 'disagreeing overlap: first copy');
  assert.equal(r2.warnings.length, 1, JSON.stringify(r2.warnings));
  assert.match(r2.warnings[0]!.message, /differs/);
  const overlapFrame = diffPackets.findIndex((p) => p.payload instanceof Buffer && p.payload[0] === 0x7e && p.sport === 143) + 1;
  assert.equal(r2.warnings[0]!.frame, overlapFrame);
});

test('sequence numbers wrapping past 2^32 (in order, reordered, and with a gap right after the wrap)', async (t) => {
  const base: ConversationOptions = { exchanges: exchanges(bytes(9000, 3)), clientIsn: 0xffffffff - 20, serverIsn: 0xffffffff - 2000 };
  // In order.
  const r1 = await run(tcpConversation(base));
  assert.deepEqual(r1.warnings, []);
  const want = written(base);
  assertPieces(r1.rec.pieces(0, 'client'), [want.client], 'client across the wrap');
  assertPieces(r1.rec.pieces(0, 'server'), [want.server], 'server across the wrap');
  assert.equal(r1.rec.conn(0).state, 'closed');
  await agreeWithTshark(t, r1);

  // The server's response begins at ISN + 1 + 40 (greeting): 0xffffffff - 1959; its segment 1 straddles 2^32.
  const reordered = { ...base, fate: (x: number, s: number) => (x === 2 && s <= 2 ? (s === 1 ? 'late' : 'ok') : 'ok') } as ConversationOptions;
  const r2 = await run(tcpConversation(reordered));
  assert.deepEqual(r2.warnings, []);
  assertPieces(r2.rec.pieces(0, 'server'), [want.server], 'reordered across the wrap');

  // Segment 2 of the response (wholly past the wrap) never captured: a gap of exactly its 1448 bytes.
  const lossy = { ...base, fate: (x: number, s: number) => (x === 2 && s === 2 ? 'unseen' : 'ok') } as ConversationOptions;
  const r3 = await run(tcpConversation(lossy));
  const big = base.exchanges[2]!.data as Buffer;
  assertPieces(r3.rec.pieces(0, 'server'), [GREETING, big.subarray(0, 2896), 1448, big.subarray(4344), '* BYE\r\na3 OK\r\n'], 'gap after the wrap');
  await agreeWithTshark(t, r3);
});

test('a capture that starts mid-stream: no SYN, client and server told by port 143, sawSyn false', async (t) => {
  // The first captured packet comes from the server (port 143): it must still be the server.
  const o: ConversationOptions = { handshake: false, exchanges: exchanges().slice(2), close: 'none' };
  const packets = tcpConversation(o);
  assert.equal(packets[0]!.sport, 143);
  const r = await run(packets);
  assert.deepEqual(r.warnings, []);
  const c = r.rec.conn(0);
  assert.equal(c.sawSyn, false);
  assert.deepEqual(c.client, { ip: '10.0.0.1', port: 50000 });
  assert.deepEqual(c.server, { ip: '10.0.0.2', port: 143 });
  assert.equal(c.state, 'open');
  assert.equal(r.rec.closeReason(0), 'end-of-capture');
  const want = written(o);
  assertPieces(r.rec.pieces(0, 'client'), [want.client], 'client');
  assertPieces(r.rec.pieces(0, 'server'), [want.server], 'server');
  await agreeWithTshark(t, r);

  // A client whose port (80) is lower than the server's would confuse a "lower port is the server" rule.
  const low: ConversationOptions = { handshake: false, exchanges: exchanges().slice(1), client: { ip: '10.9.0.1', port: 80 }, server: { ip: '10.9.0.2', port: 143 } };
  const r2 = await run(tcpConversation(low));
  assert.deepEqual(r2.rec.conn(0).client, { ip: '10.9.0.1', port: 80 });
  assertPieces(r2.rec.pieces(0, 'client'), [written(low).client], 'client on port 80');
});

test('a segment lost and never retransmitted gives a gap of exactly its length; the bytes after it still arrive', async (t) => {
  const big = bytes(7240, 4); // exactly 5 segments
  const o: ConversationOptions = { exchanges: exchanges(big), fate: (x, s) => (x === 2 && s === 1 ? 'unseen' : x === 1 ? 'unseen' : 'ok') };
  const packets = tcpConversation(o);
  const r = await run(packets);
  // The server's segment 1 of the response and the client's whole LOGIN (one segment) are missing.
  assertPieces(r.rec.pieces(0, 'server'), [GREETING, big.subarray(0, 1448), 1448, big.subarray(2896), '* BYE\r\na3 OK\r\n'], 'server');
  assertPieces(r.rec.pieces(0, 'client'), [LOGIN.length, 'a3 LOGOUT\r\n'], 'client');
  const c = r.rec.conn(0);
  assert.deepEqual(c.stats.server, { bytes: GREETING.length + big.length - 1448 + 14, gaps: 1, gapBytes: 1448 });
  assert.deepEqual(c.stats.client, { bytes: 11, gaps: 1, gapBytes: LOGIN.length });
  assert.equal(c.state, 'closed');
  // One warning per gap, naming the connection.
  assert.equal(r.warnings.length, 2, JSON.stringify(r.warnings));
  for (const w of r.warnings) {
    assert.equal(w.conn, 0);
    assert.match(w.message, /bytes missing/);
  }
  // The gap event comes before the data that follows it, at a frame of the connection.
  const serverEvents = r.rec.events.filter((e) => (e.kind === 'gap' || e.kind === 'data') && e.side === 'server');
  const gapAt = serverEvents.findIndex((e) => e.kind === 'gap');
  assert.equal(gapAt, 2, 'greeting, segment 0, then the gap');
  await agreeWithTshark(t, r);
});

test('a lost segment at the end of a send, acknowledged by the peer, is a gap even with nothing after it', async () => {
  const big = bytes(4344, 5); // 3 segments; the last one is never captured
  const o: ConversationOptions = { exchanges: [{ from: 'server', data: GREETING }, { from: 'client', data: LOGIN }, { from: 'server', data: big }], fate: (x, s) => (x === 2 && s === 2 ? 'unseen' : 'ok'), close: 'none' };
  const r = await run(tcpConversation(o));
  assertPieces(r.rec.pieces(0, 'server'), [GREETING, big.subarray(0, 2896), 1448], 'server');
  assert.equal(r.rec.conn(0).state, 'open');
});

test('a segment lost and later retransmitted (fast retransmit) leaves no gap', async (t) => {
  const o: ConversationOptions = { exchanges: exchanges(bytes(14480, 6)), fate: (x, s) => (x === 2 && (s === 2 || s === 5) ? 'lost' : 'ok') };
  const packets = tcpConversation(o);
  const r = await run(packets);
  assert.deepEqual(r.warnings, []);
  const want = written(o);
  assertPieces(r.rec.pieces(0, 'server'), [want.server], 'server');
  assertPieces(r.rec.pieces(0, 'client'), [want.client], 'client');
  assert.equal(r.rec.conn(0).stats.server.gaps, 0);
  await agreeWithTshark(t, r);
});

test('a snaplen-truncated payload is delivered as far as captured, then a gap of the cut bytes', async () => {
  const big = bytes(4344, 7);
  const o: ConversationOptions = { exchanges: exchanges(big) };
  const packets = tcpConversation(o);
  const seg1 = packets.filter((p) => p.sport === 143 && p.payload)[2]!; // greeting, big[0], big[1]
  assert.equal(seg1.seq, packets.filter((p) => p.sport === 143 && p.payload)[1]!.seq + 1448);
  seg1.snaplen = 14 + 20 + 20 + 100; // Ethernet + IPv4 + TCP + 100 payload bytes
  const r = await run(packets);
  assertPieces(r.rec.pieces(0, 'server'), [GREETING, big.subarray(0, 1548), 1348, big.subarray(2896), '* BYE\r\na3 OK\r\n'], 'server');
  assertPieces(r.rec.pieces(0, 'client'), [written(o).client], 'client');
  const gap = r.rec.events.find((e) => e.kind === 'gap')!;
  assert.equal(gap.kind === 'gap' && gap.frame, packets.indexOf(seg1) + 1, 'the gap belongs to the truncated frame');
  assert.equal(r.warnings.length, 1);
});

test('a keep-alive (one garbage byte at seq - 1) delivers nothing and warns about nothing', async () => {
  const flow = new TcpFlow();
  const packets = [...flow.handshake(), ...flow.send('server', GREETING), ...flow.send('client', LOGIN)];
  flow.wait(45);
  const ka = (from: 'client' | 'server', other: 'client' | 'server'): SynthPacket => {
    flow.wait(0.001);
    const me = flow.ends[from];
    const peer = flow.ends[other];
    return { t: flow.now, src: me.ip, dst: peer.ip, sport: me.port, dport: peer.port, seq: (flow.nextSeq(from) - 1) >>> 0, ack: flow.nextSeq(other), flags: 'A', payload: Buffer.from([0]) };
  };
  packets.push(ka('client', 'server'), ka('server', 'client'), ka('client', 'server'));
  packets.push(...flow.send('server', 'a1 OK\r\n'), ...flow.close('fin'));
  const r = await run(packets);
  assert.deepEqual(r.warnings, []);
  assertPieces(r.rec.pieces(0, 'client'), [LOGIN], 'client');
  assertPieces(r.rec.pieces(0, 'server'), [GREETING, 'a1 OK\r\n'], 'server');
  assert.equal(r.rec.conn(0).state, 'closed');
});

test('a 4-tuple reused after FIN is two connections, ids 0 and 1, each with its own bytes', async (t) => {
  const one: ConversationOptions = { exchanges: [{ from: 'server', data: GREETING }, { from: 'client', data: 'a1 LOGOUT\r\n' }], clientIsn: 1000, serverIsn: 5000, start: 1_700_000_000 };
  const two: ConversationOptions = { exchanges: [{ from: 'server', data: '* OK second\r\n' }, { from: 'client', data: 'b1 CAPABILITY\r\n' }], clientIsn: 900_000, serverIsn: 77, start: 1_700_000_010 };
  const packets = [...tcpConversation(one), ...tcpConversation(two)];
  const r = await run(packets);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.rec.conns.map((c) => c.id), [0, 1]);
  const [c0, c1] = [r.rec.conn(0), r.rec.conn(1)];
  assert.deepEqual([c0.state, c1.state], ['closed', 'closed']);
  assert.deepEqual([c0.sawSyn, c1.sawSyn], [true, true]);
  assert.equal(c0.lastFrame + 1, c1.firstFrame);
  assert.equal(c1.lastFrame, packets.length);
  assert.deepEqual(r.rec.retirements, [{ id: 0, lastFrame: c0.lastFrame, opened: 1 }, { id: 1, lastFrame: r.rec.conn(1).lastFrame, opened: 2 }], 'the first record is final when the second SYN takes its 4-tuple (before the second opens); the second, still lingering, at the end');
  assertPieces(r.rec.pieces(0, 'server'), [GREETING], 'first server');
  assertPieces(r.rec.pieces(0, 'client'), ['a1 LOGOUT\r\n'], 'first client');
  assertPieces(r.rec.pieces(1, 'server'), ['* OK second\r\n'], 'second server');
  assertPieces(r.rec.pieces(1, 'client'), ['b1 CAPABILITY\r\n'], 'second client');
  await agreeWithTshark(t, r);
});

test('end states: RST → reset, FIN both ways → closed, one FIN or none → open', async () => {
  const cases: [ConversationOptions['close'], 'client' | 'server', EndState, string][] = [
    ['rst', 'server', 'reset', 'reset'],
    ['rst', 'client', 'reset', 'reset'],
    ['fin', 'client', 'closed', 'closed'],
    ['fin', 'server', 'closed', 'closed'],
    ['none', 'client', 'open', 'end-of-capture'],
  ];
  for (const [close, closer, state, reason] of cases) {
    const o: ConversationOptions = { exchanges: exchanges(), close, closer };
    const r = await run(tcpConversation(o));
    assert.deepEqual(r.warnings, [], `${close} by ${closer}`);
    assert.equal(r.rec.conn(0).state, state, `${close} by ${closer}`);
    assert.equal(r.rec.closeReason(0), reason, `${close} by ${closer}`);
    assertPieces(r.rec.pieces(0, 'server'), [written(o).server], `${close} by ${closer}: server bytes`);
  }
  // A FIN from one side only: the connection is half-closed, not closed.
  const flow = new TcpFlow();
  const packets = [...flow.handshake(), ...flow.send('server', GREETING), ...flow.send('client', 'a1 LOGOUT\r\n')];
  const fin = flow.close('fin', 'client');
  packets.push(fin[0]!); // the client's FIN only
  const r = await run(packets);
  assert.equal(r.rec.conn(0).state, 'open');
  assert.equal(r.rec.closeReason(0), 'end-of-capture');
  assert.deepEqual(r.warnings, []);
  // The close event of a closed connection comes at its last FIN exchange, before the end of the capture.
  const both = await run([...tcpConversation({ exchanges: exchanges() }), ...tcpConversation({ exchanges: [{ from: 'server', data: GREETING }], client: { ip: '10.0.0.1', port: 50001 }, start: 1_700_000_100, close: 'none' })]);
  const kinds = both.rec.events.map((e) => `${e.kind}${e.id}`);
  assert.ok(kinds.indexOf('close0') < kinds.indexOf('open1'), kinds.join(' '));
});

test('the out-of-order hold cap: a warning, the holes become gaps, and reading still finishes', { timeout: 20_000 }, async () => {
  // Client → server only after the handshake; the server never acknowledges data, so only the cap resolves holes.
  const flow = new TcpFlow();
  const packets = flow.handshake();
  const c = flow.ends.client;
  const s = flow.ends.server;
  const base = flow.nextSeq('client');
  const data = bytes(500 * 30, 8);
  const missing = new Set([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
  for (let i = 0; i < 30; i++) {
    if (missing.has(i)) continue;
    flow.wait(0.001);
    packets.push({ t: flow.now, src: c.ip, dst: s.ip, sport: c.port, dport: s.port, seq: (base + 500 * i) >>> 0, ack: flow.nextSeq('server'), flags: 'PA', payload: data.subarray(500 * i, 500 * (i + 1)) });
  }
  const r = await run(packets, { maxHeldBytes: 1000 });
  const expected: (Buffer | number)[] = [];
  for (let i = 0; i < 30; i++) expected.push(missing.has(i) ? 500 : data.subarray(500 * i, 500 * (i + 1)));
  assertPieces(r.rec.pieces(0, 'client'), expected, 'client');
  const capWarnings = r.warnings.filter((w) => /out-of-order bytes held/.test(w.message));
  assert.equal(capWarnings.length, 1, JSON.stringify(r.warnings));
  assert.equal(capWarnings[0]!.conn, 0);
  assert.match(capWarnings[0]!.message, /more than 1000/);
  // The cap is first exceeded by the third held segment (1500 bytes > 1000): frame 3 handshake + 3 data = 6.
  assert.equal(capWarnings[0]!.frame, 6);

  // The same capture with the default cap: nothing is given up until the end of the capture, same bytes.
  const roomy = await run(packets);
  assertPieces(roomy.rec.pieces(0, 'client'), expected, 'client, default cap');
  assert.equal(roomy.warnings.filter((w) => /out-of-order bytes held/.test(w.message)).length, 0);
});

test('connection ids count every TCP conversation, IMAP or not, in order of first appearance', async (t) => {
  const smtp = tcpConversation({ exchanges: [{ from: 'server', data: '220 mx ESMTP\r\n' }, { from: 'client', data: 'EHLO x\r\n' }], client: { ip: '10.0.0.5', port: 40000 }, server: { ip: '10.0.0.6', port: 25 }, start: 1_700_000_000 });
  const imapA = tcpConversation({ exchanges: exchanges(), client: { ip: '10.0.0.1', port: 50001 }, start: 1_700_000_000.004 });
  const http = tcpConversation({ exchanges: [{ from: 'client', data: 'GET / HTTP/1.0\r\n\r\n' }], client: { ip: '10.0.0.7', port: 40001 }, server: { ip: '10.0.0.8', port: 80 }, start: 1_700_000_000.005 });
  const imapB = tcpConversation({ exchanges: [{ from: 'server', data: '* OK B\r\n' }, { from: 'client', data: 'b1 NOOP\r\n' }], client: { ip: '10.0.0.3', port: 50002 }, start: 1_700_000_000.006 });
  const byTime = (a: SynthPacket, b: SynthPacket) => Number(toNs(a.t) - toNs(b.t));
  const packets = [...smtp, ...imapA, ...http, ...imapB].sort(byTime);
  assert.ok(toNs(smtp[smtp.length - 1]!.t) > toNs(imapA[0]!.t), 'the conversations interleave');
  const r = await run(packets);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.rec.conns.map((c) => [c.id, c.client.port]), [[1, 50001], [3, 50002]]);
  assertPieces(r.rec.pieces(1, 'server'), [written({ exchanges: exchanges() }).server], 'IMAP A server');
  assertPieces(r.rec.pieces(3, 'server'), ['* OK B\r\n'], 'IMAP B server');
  assertPieces(r.rec.pieces(3, 'client'), ['b1 NOOP\r\n'], 'IMAP B client');

  // collectStreams gives the same connections.
  const collected = await collectStreams(r.path, { ports: [143] });
  assert.deepEqual(collected.connections.map((c) => c.id), [1, 3]);
  assert.equal(collected.capture.frames, packets.length);
  await agreeWithTshark(t, r);
});

// ---------------------------------------------------------------------------------------------------------------
// Out-of-order data that disagrees with itself: which copy wins

/** Client segments at offsets relative to the first data byte; the server acknowledges nothing after the SYN. */
function clientSegments(list: [offset: number, data: string][]): SynthPacket[] {
  const flow = new TcpFlow();
  const packets = flow.handshake();
  const { client: c, server: s } = flow.ends;
  const base = flow.nextSeq('client');
  for (const [off, data] of list) {
    flow.wait(0.001);
    packets.push({ t: flow.now, src: c.ip, dst: s.ip, sport: c.port, dport: s.port, seq: (base + off) >>> 0, ack: flow.nextSeq('server'), flags: 'PA', payload: data });
  }
  return packets;
}

test('a held out-of-order segment retransmitted with other bytes before the hole fills: first copy kept, warned', async (t) => {
  const r = await run(clientSegments([[0, 'AAAA'], [8, 'CCCC'], [8, 'XXXX'], [4, 'BBBB']]));
  assertPieces(r.rec.pieces(0, 'client'), ['AAAABBBBCCCC'], 'client');
  assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
  assert.equal(r.warnings[0]!.frame, 6);
  assert.match(r.warnings[0]!.message, /disagrees with held data/);
  await agreeWithTshark(t, r);
});

test('a held segment partly overlapped by a later one that starts earlier: bytes as tshark follows them, and a warning', async (t) => {
  // 8..12 'CCCC' arrives first and is held; 6..10 'XXXX' later. Held data drains in sequence order, so bytes
  // 8..10 come from the later copy (Wireshark 4.0's follow does the same); the disagreement must be reported.
  const r = await run(clientSegments([[0, 'AAAA'], [8, 'CCCC'], [6, 'XXXX'], [4, 'BB']]));
  assertPieces(r.rec.pieces(0, 'client'), ['AAAABBXXXXCC'], 'client');
  assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
  assert.equal(r.warnings[0]!.frame, 6);
  assert.match(r.warnings[0]!.message, /disagrees/);
  await agreeWithTshark(t, r);
});

test('an in-order segment that overlaps held data with other bytes: bytes as tshark follows them, and a warning', async (t) => {
  // 8..12 'CCCC' is held; then 4..10 'BBBBYY' arrives in order and is delivered whole (as Wireshark 4.0 does),
  // so the held copy's 'CC' at 8..10 is dropped: the two copies disagree and nothing says so.
  const r = await run(clientSegments([[0, 'AAAA'], [8, 'CCCC'], [4, 'BBBBYY']]));
  assertPieces(r.rec.pieces(0, 'client'), ['AAAABBBBYYCC'], 'client');
  await agreeWithTshark(t, r);
  assert.equal(r.warnings.length, 1, JSON.stringify(r.warnings));
});

test('RecentBytes grows from a few bytes to its window and still tells old bytes from new ones', async () => {
  const { RecentBytes, RingPool } = await import('../src/tcp/recent-bytes.js');
  const random = seededRandom(3);
  const window = 4096;
  // Rings come from a pool whose spares hold another stream's bytes: none of them may count as this stream's.
  const pool = new RingPool(window);
  for (let size = 16; size <= window; size *= 2) pool.give(Buffer.alloc(size, 0x5a), 0, size);
  // Small rings share slabs: the neighbours of this stream's ring hold other bytes.
  const neighbours = Array.from({ length: 8 }, () => new RecentBytes());
  const recent = new RecentBytes();
  const all: number[] = [];
  for (let step = 0; step < 400; step++) {
    const chunk = Buffer.from(Array.from({ length: Math.floor(random() * (step % 50 === 0 ? 6000 : 300)) }, () => Math.floor(random() * 256)));
    recent.remember(chunk, pool);
    for (const n of neighbours) n.remember(Buffer.alloc(1 + (step % 700), 0xa5), pool);
    all.push(...chunk);
    // Probe the last bytes: an exact copy agrees, a changed byte within the window disagrees.
    const back = Math.min(all.length, 1 + Math.floor(random() * window));
    const old = Buffer.from(all.slice(all.length - back, all.length - back + Math.min(back, 64)));
    assert.equal(recent.differs(back, old), false, `step ${step}: an exact copy`);
    if (old.length > 0) {
      old[0] = (old[0]! + 1) & 255;
      assert.equal(recent.differs(back, old), true, `step ${step}: a changed byte ${back} back`);
    }
  }
});

test('one client port talking to two servers, and one server to several clients, interleaved: each conversation its own id and bytes', async (t) => {
  // The conversation index keeps a single peer per endpoint inline and switches to a map at the second peer.
  const client = { ip: '10.0.0.1', port: 50001 };
  const toFirst = tcpConversation({ exchanges: [{ from: 'server', data: '* OK first\r\n' }, { from: 'client', data: 'a1 NOOP\r\n' }], client, server: { ip: '10.0.0.9', port: 143 }, start: 1_700_000_000 });
  const toSecond = tcpConversation({ exchanges: [{ from: 'server', data: '* OK second\r\n' }, { from: 'client', data: 'b1 NOOP\r\n' }], client, server: { ip: '10.0.0.10', port: 143 }, start: 1_700_000_000.0002 });
  const other = tcpConversation({ exchanges: [{ from: 'server', data: '* OK third\r\n' }, { from: 'client', data: 'c1 NOOP\r\n' }], client: { ip: '10.0.0.2', port: 50001 }, server: { ip: '10.0.0.9', port: 143 }, start: 1_700_000_000.0004 });
  const byTime = (a: SynthPacket, b: SynthPacket) => Number(toNs(a.t) - toNs(b.t));
  const packets = [...toFirst, ...toSecond, ...other].sort(byTime);
  assert.ok(toNs(toFirst[toFirst.length - 1]!.t) > toNs(other[0]!.t), 'the conversations interleave');
  const r = await run(packets);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.rec.conns.map((c) => [c.id, c.client.ip, c.server.ip]), [[0, '10.0.0.1', '10.0.0.9'], [1, '10.0.0.1', '10.0.0.10'], [2, '10.0.0.2', '10.0.0.9']]);
  for (const [id, server, client] of [[0, '* OK first\r\n', 'a1 NOOP\r\n'], [1, '* OK second\r\n', 'b1 NOOP\r\n'], [2, '* OK third\r\n', 'c1 NOOP\r\n']] as const) {
    assertPieces(r.rec.pieces(id, 'server'), [server], `connection ${id} server`);
    assertPieces(r.rec.pieces(id, 'client'), [client], `connection ${id} client`);
  }
  await agreeWithTshark(t, r);
});

test('a second FIN at another sequence number: the first one stays, and nothing past it continues the stream (fuzzer finding)', () => {
  const delivered: string[] = [];
  const warnings: string[] = [];
  const owner: HalfStreamOwner = {
    limits: { maxHeldBytes: 1 << 20 }, rings: new RingPool(),
    deliver: (_side, bytes) => delivered.push(bytes.toString('latin1')), gap: (_side, length) => delivered.push(`gap ${length}`),
    warn: (side, _frame, message) => warnings.push(`${side}: ${message}`),
  };
  const half = new HalfStream(owner, 'client');
  half.syn(1000);
  half.segment(1001, Buffer.from('hello'), 0, false, 2);
  // Bytes past a hole are held; then the FIN comes right after "hello", before the hole: the stream ends there.
  half.segment(1007, Buffer.from('later'), 0, false, 3);
  half.segment(1001, Buffer.from('hello'), 0, true, 4);
  assert.ok(half.finished);
  // A FIN further on contradicts it: ignored (once said), so the held bytes never follow "hello" as if they continued it.
  half.segment(1020, Buffer.alloc(0), 0, true, 5);
  half.segment(1030, Buffer.alloc(0), 0, true, 6);
  half.flush(7);
  assert.deepEqual(delivered, ['hello']);
  assert.deepEqual(warnings, ['client: a FIN at another sequence number than the first one (14 bytes from it) is ignored', 'client: data after the FIN ignored']);
});

/** A client direction that starts after a SYN at 1000, and what it delivers and warns, as text. */
function clientStream(limits: HalfStreamOwner['limits'] = { maxHeldBytes: 1 << 20 }): { half: HalfStream; delivered: string[]; warnings: string[] } {
  const delivered: string[] = [];
  const warnings: string[] = [];
  const owner: HalfStreamOwner = {
    limits, rings: new RingPool(),
    deliver: (_side, bytes, frame) => delivered.push(`${frame}: ${bytes.toString('latin1')}`), gap: (_side, length, frame) => delivered.push(`${frame}: gap ${length}`),
    warn: (_side, frame, message) => warnings.push(`${frame}: ${message}`),
  };
  const half = new HalfStream(owner, 'client');
  half.syn(1000);
  return { half, delivered, warnings };
}

test('a held segment that starts far back still meets a new one it overlaps: one long segment behind many short ones', () => {
  const { half, delivered, warnings } = clientStream();
  // A hole at 1001..1010; then 1010..1110 as one segment, and eight short ones inside it that agree with it.
  half.segment(1010, Buffer.alloc(100, 'L'), 0, false, 2);
  for (let k = 1; k <= 8; k++) half.segment(1010 + 10 * k, Buffer.from('LL'), 0, false, 2 + k);
  // Its neighbours in sequence order are the short ones; only the long one reaches 1100.
  half.segment(1100, Buffer.from('XXXX'), 0, false, 11);
  assert.deepEqual(warnings, ['11: overlapping segment disagrees with held data (4 bytes); the copy that continues the stream first is kept']);
  half.segment(1001, Buffer.from('ABCDEFGHI'), 0, false, 12);
  assert.deepEqual(delivered, ['12: ABCDEFGHI', `12: ${'L'.repeat(100)}`], 'the long segment drains first; the others lie behind it');
  assert.equal(warnings.length, 1, 'the disagreement is not reported again as it drains');
});

test('a held segment\'s place is after every one that starts at or before it, as a scan from the front finds it (20,000 random holds, across 2^32)', () => {
  const random = seededRandom(35);
  for (let round = 0; round < 20_000; round++) {
    const base = Math.floor(random() * 2 ** 32) | 0; // near the wrap as often as not
    const held: { seq: number }[] = [];
    const count = Math.floor(random() * 12);
    for (let i = 0; i < count; i++) held.push({ seq: (base + Math.floor(random() * 8)) | 0 });
    held.sort((a, b) => seqDiff(a.seq, b.seq));
    const seq = (base + Math.floor(random() * 10) - 1) | 0;
    let scanned = 0;
    while (scanned < held.length && seqDiff(held[scanned]!.seq, seq) <= 0) scanned++;
    assert.equal(placeAfterEqual(held, seq), scanned, `${seq} among ${held.map((h) => h.seq).join(' ')}`);
  }
});

test(`segments held behind a hole are capped by number too: ${MAX_HELD_SEGMENTS.toLocaleString('en-US')} one-byte segments wait, the next gives the hole up`, () => {
  const { half, delivered, warnings } = clientStream();
  // Byte 1001 is missing; 1002 on come one byte at a time, each its own segment, far under the byte cap.
  for (let i = 0; i < MAX_HELD_SEGMENTS; i++) half.segment(1002 + i, Buffer.from('x'), 0, false, 2 + i);
  assert.deepEqual([delivered, warnings], [[], []], 'all of them wait for the hole');
  const frame = 2 + MAX_HELD_SEGMENTS;
  half.segment(1002 + MAX_HELD_SEGMENTS, Buffer.from('y'), 0, false, frame);
  assert.deepEqual(warnings, [`${frame}: more than ${MAX_HELD_SEGMENTS} out-of-order segments held; giving up on the missing data before them (reported as a gap)`]);
  assert.equal(delivered[0], `${frame}: gap 1`);
  assert.equal(delivered.slice(1).map((d) => d.slice(d.indexOf(' ') + 1)).join(''), 'x'.repeat(MAX_HELD_SEGMENTS) + 'y', 'then every held byte, in order');
  // A smaller cap, as the pipeline options set it: the same, sooner.
  const small = clientStream({ maxHeldBytes: 1 << 20, maxHeldSegments: 3 });
  for (const [i, c] of [...'abcd'].entries()) small.half.segment(1002 + i, Buffer.from(c), 0, false, 2 + i);
  assert.deepEqual(small.delivered, ['5: gap 1', '5: a', '5: b', '5: c', '5: d']);
  assert.match(small.warnings[0]!, /^5: more than 3 out-of-order segments held/);
});

test('a ring past the slabs\' sizes is a block of its own: a view into Node\'s buffer pool would keep a whole 8 KiB slab alive', () => {
  const pool = new RingPool();
  for (const size of [2048, 4096, 64 * 1024]) {
    const place: { buffer: Buffer | null; base: number } = { buffer: null, base: 0 };
    pool.take(size, place);
    assert.equal(place.buffer!.length, size);
    assert.equal(place.buffer!.buffer.byteLength, size, `a ${size}-byte ring's block`);
  }
});

test('rings of ended streams go back to the pool and are reused, up to the pool\'s cap', () => {
  const pool = new RingPool();
  const owner: HalfStreamOwner = { limits: { maxHeldBytes: 1 << 20 }, rings: pool, deliver: () => {}, gap: () => {}, warn: () => {} };
  const first = new HalfStream(owner, 'server');
  const deliverLines = (half: HalfStream) => {
    half.syn(0);
    for (let i = 0; i < 30; i++) half.segment(1 + i * 100, Buffer.alloc(100, 0x41 + i), 0, false, i + 1);
  };
  deliverLines(first);
  assert.equal(first.remembering, 4096);
  // Growing by doubling handed the smaller rings back as spares.
  const smaller = 128 + 256 + 512 + 1024 + 2048;
  assert.equal(pool.pooled, smaller);
  first.releaseRing(pool);
  assert.equal(first.remembering, 0);
  assert.equal(pool.pooled, smaller + 4096);
  // The next stream's growth takes the spares instead of allocating: it ends holding the 4096 one.
  const second = new HalfStream(owner, 'server');
  deliverLines(second);
  assert.equal(second.remembering, 4096);
  assert.equal(pool.pooled, smaller);
  // Thousands of ended streams do not make the pool grow past its cap.
  for (let i = 0; i < 400; i++) pool.give(Buffer.allocUnsafe(64 * 1024), 0, 64 * 1024);
  assert.ok(pool.pooled <= 8 * 1024 * 1024, `${pool.pooled} bytes pooled`);
});

test('an idle direction holds nothing for reordering and a small ring for retransmissions, sized by what it delivered', () => {
  const delivered: string[] = [];
  const warnings: string[] = [];
  const owner: HalfStreamOwner = {
    limits: { maxHeldBytes: 1 << 20 },
    rings: new RingPool(),
    deliver: (_side, bytes) => { delivered.push(bytes.toString('latin1')); },
    gap: (_side, length) => { delivered.push(`<gap ${length}>`); },
    warn: (side, _frame, message) => { warnings.push(`${side}: ${message}`); },
  };
  const half = new HalfStream(owner, 'server');
  assert.deepEqual([half.holding, half.remembering], [0, 0], 'nothing allocated before the first byte');
  half.syn(1000);
  half.segment(1001, Buffer.from('* OK ready\r\n'), 0, false, 2);
  assert.deepEqual(delivered, ['* OK ready\r\n']);
  assert.equal(half.holding, 0);
  assert.ok(half.remembering >= 12 && half.remembering <= 16, `ring of ${half.remembering} bytes for a 12-byte greeting`);
  // The small ring still tells a faithful retransmission from a changed one.
  half.segment(1001, Buffer.from('* OK ready\r\n'), 0, false, 3);
  assert.deepEqual(warnings, []);
  half.segment(1001, Buffer.from('* NO ready\r\n'), 0, false, 4);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^server: retransmitted data differs from the first copy/);
  // Data past a hole is held until the hole fills, then the hold is empty again.
  half.segment(1013 + 5, Buffer.from('world'), 0, false, 5);
  assert.equal(half.holding, 5);
  half.segment(1013, Buffer.from('hello'), 0, false, 6);
  assert.equal(half.holding, 0);
  assert.deepEqual(delivered, ['* OK ready\r\n', 'hello', 'world']);
  assert.equal(half.remembering, 32, 'the ring doubled to hold 22 bytes');
});

test('a ring whose bytes were all acknowledged is kept for the hold (a retransmission is still checked), then goes back to the pool', () => {
  const warnings: string[] = [];
  const delivered: string[] = [];
  const pool = new RingPool();
  const owner: HalfStreamOwner = {
    limits: { maxHeldBytes: 1 << 20 }, rings: pool,
    deliver: (_side, data) => { delivered.push(data.toString('latin1')); },
    gap: () => {},
    warn: (_side, _frame, message) => { warnings.push(message); },
  };
  // Lines of 40 bytes.
  const line = (text: string) => `${text.padEnd(38, '.')}\r\n`;
  const greeting = line('* OK [CAPABILITY IMAP4rev1] ready');
  const half = new HalfStream(owner, 'server');
  const T = 1_700_000_000;
  let seq = 1001;
  const send = (text: string, frame: number) => { half.segment(seq, Buffer.from(text), 0, false, frame); seq += text.length; };
  half.syn(1000);
  send(greeting, 1);
  half.peerAck(1005, 2, T);
  assert.equal(pool.hold.size, 0, 'not all acknowledged: nothing to return');
  half.peerAck(seq, 3, T);
  half.peerAck(seq, 4, T + 1);
  assert.equal(pool.hold.size, 1, 'held once, however many ACKs repeat it');
  // A forged copy that comes after the acknowledgement, within the hold, is still told from the first.
  half.segment(1001, Buffer.from(line('* NO [CAPABILITY IMAP4rev1] ready')), 0, false, 5);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /retransmitted data differs from the first copy/);
  pool.hold.due(T + ACKNOWLEDGED_HOLD_SECONDS - 1);
  assert.ok(half.remembering > 0, 'kept until the hold has passed');
  pool.hold.due(T + ACKNOWLEDGED_HOLD_SECONDS);
  assert.equal(half.remembering, 0, 'the ring went back');
  assert.equal(pool.pooled, 64);
  assert.equal(pool.hold.size, 0);
  // Past the hold a copy is dropped as old, unchecked; nothing is delivered twice.
  half.segment(1001, Buffer.from(line('* XX [CAPABILITY IMAP4rev1] ready')), 0, false, 6);
  assert.equal(warnings.length, 1);
  assert.deepEqual(delivered, [greeting]);
  // New bytes take a ring again; held, then more bytes before the hold passed: that ring stays.
  send(line('* 1 EXISTS'), 7);
  assert.ok(half.remembering > 0);
  half.peerAck(seq, 8, T + 20);
  const before = seq;
  send(line('* 2 EXISTS'), 9);
  pool.hold.due(T + 40);
  assert.ok(half.remembering > 0, 'bytes came after it was held: not all acknowledged any more');
  assert.equal(pool.hold.size, 0, 'it left the hold, to come back once all is acknowledged');
  half.segment(before, Buffer.from(line('* 9 EXISTS')), 0, false, 10);
  assert.equal(warnings.length, 2, 'the new bytes are checked');
  half.peerAck(seq, 11, T + 41);
  pool.hold.due(T + 41 + ACKNOWLEDGED_HOLD_SECONDS);
  assert.equal(half.remembering, 0);
  // Held, more bytes, all acknowledged again before its turn: the turn is taken again, a hold after the first one's end.
  send(line('* 3 EXISTS'), 12);
  half.peerAck(seq, 13, T + 100);
  const last = seq;
  send(line('* 4 EXISTS'), 14);
  half.peerAck(seq, 15, T + 105);
  assert.equal(pool.hold.size, 1, 'in the hold once');
  pool.hold.due(T + 100 + ACKNOWLEDGED_HOLD_SECONDS);
  assert.ok(half.remembering > 0, 'its last bytes were acknowledged 5 s ago: still kept');
  half.segment(last, Buffer.from(line('* 5 EXISTS')), 0, false, 16);
  assert.equal(warnings.length, 3, 'and checked');
  pool.hold.due(T + 99 + 2 * ACKNOWLEDGED_HOLD_SECONDS);
  assert.ok(half.remembering > 0);
  pool.hold.due(T + 100 + 2 * ACKNOWLEDGED_HOLD_SECONDS);
  assert.equal(half.remembering, 0);
  // A stream that said little gives its small ring back too.
  const short = new HalfStream(owner, 'client');
  short.syn(0);
  short.segment(1, Buffer.from('a1 NOOP\r\n'), 0, false, 17);
  short.peerAck(10, 18, T + 200);
  assert.equal(pool.hold.size, 1);
  assert.equal(short.remembering, 16);
  pool.hold.due(T + 200 + ACKNOWLEDGED_HOLD_SECONDS);
  assert.equal(short.remembering, 0);
});

test('the hold gives each stream its turn in the order queued, once its second is HOLD seconds past (30,000 random steps, clocks that step back)', () => {
  const random = seededRandom(29);
  const hold = new RingHold();
  const model: { id: number; at: number }[] = [];
  const passed: string[] = [];
  const expected: string[] = [];
  let now = 1_000;
  let next = 0;
  for (let step = 0; step < 30_000; step++) {
    const r = random();
    if (r < 0.6) {
      const id = next++;
      const at = now - (random() < 0.05 ? Math.floor(random() * 30) : 0);
      hold.add({ holdPassed: (t, early) => { passed.push(`${id}@${t}${early ? '!' : ''}`); } }, at);
      model.push({ id, at });
    } else {
      if (r < 0.9) now += Math.floor(random() * 3);
      else now -= Math.floor(random() * 5);
      hold.due(now);
      while (model.length > 0 && now - model[0]!.at >= ACKNOWLEDGED_HOLD_SECONDS) expected.push(`${model.shift()!.id}@${now}`);
    }
    assert.equal(hold.size, model.length);
  }
  assert.ok(expected.length > 10_000, `${expected.length} turns`);
  assert.deepEqual(passed, expected);
});

test('an ended stream leaves the hold when it is among the newest queued, and is not called when its turn comes', () => {
  const hold = new RingHold();
  const called: number[] = [];
  const holders = Array.from({ length: 200 }, (_, i) => ({ holdPassed: () => { called.push(i); } }));
  holders.forEach((h, i) => hold.add(h, i < 100 ? 10 : 11));
  hold.forget(holders[199]!);
  hold.forget(holders[150]!);
  hold.forget(holders[5]!); // too far back to be looked for: its turn still comes
  assert.equal(hold.size, 198);
  hold.due(10 + ACKNOWLEDGED_HOLD_SECONDS);
  assert.deepEqual(called, holders.slice(0, 100).map((_, i) => i));
  hold.due(11 + ACKNOWLEDGED_HOLD_SECONDS);
  assert.equal(called.length, 198);
  assert.ok(!called.includes(150) && !called.includes(199));
  assert.equal(hold.size, 0);
  // Through a HalfStream: one that settles and then ends leaves the hold.
  const pool = new RingPool();
  const owner: HalfStreamOwner = { limits: { maxHeldBytes: 1 << 20 }, rings: pool, deliver: () => {}, gap: () => {}, warn: () => {} };
  const half = new HalfStream(owner, 'client');
  half.syn(0);
  const logout = `a9 LOGOUT ${'.'.repeat(32)}\r\n`;
  half.segment(1, Buffer.from(logout), 0, false, 1);
  half.peerAck(1 + logout.length, 2, 5);
  assert.equal(pool.hold.size, 1);
  half.end(pool);
  assert.equal(pool.hold.size, 0, 'it left the hold');
  assert.equal(half.remembering, 0);
  pool.hold.due(5 + ACKNOWLEDGED_HOLD_SECONDS);
  assert.equal(pool.hold.size, 0);
  assert.equal(pool.pooled, 64, 'its ring went back once, at the end');
});

test('past the cap on rings waiting out the hold, the oldest goes back early', () => {
  const pool = new RingPool();
  const owner: HalfStreamOwner = { limits: { maxHeldBytes: 1 << 20 }, rings: pool, deliver: () => {}, gap: () => {}, warn: () => {} };
  const streams = Array.from({ length: MAX_HOLDING + 2 }, () => new HalfStream(owner, 'client'));
  for (const half of streams) {
    half.syn(0);
    half.segment(1, Buffer.from(`a1 NOOP ${'.'.repeat(32)}\r\n`), 0, false, 1);
    half.peerAck(32 + 12, 2, 5);
  }
  assert.equal(pool.hold.size, MAX_HOLDING);
  assert.deepEqual(streams.slice(0, 3).map((h) => h.remembering), [0, 0, 64], 'the two oldest went back early');
  pool.hold.due(5 + ACKNOWLEDGED_HOLD_SECONDS);
  assert.equal(pool.hold.size, 0);
  assert.ok(streams.every((h) => h.remembering === 0));
});

test('a quiet connection gives its rings back once the capture has moved on past the hold: a forged copy after it is not checked', async () => {
  const T = 1_700_000_000;
  const GREETING = '* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n';
  const ANSWER = 'a1 OK NOOP completed (0.001 + 0.000 secs).\r\n';
  const at = (p: SynthPacket, time: number, payload?: string): SynthPacket => ({ ...p, t: time, ...(payload === undefined ? {} : { payload }) });
  const f = new TcpFlow({ client: { ip: '10.0.0.1', port: 50000 }, start: T });
  const packets = [...f.handshake(), ...f.send('server', GREETING), ...f.send('client', 'a1 NOOP\r\n'), ...f.send('server', ANSWER)];
  const answer = packets[packets.length - 2]!;
  assert.equal(String(answer.payload), ANSWER);
  // Another conversation moves the capture's clock on.
  const other = (time: number, port: number) => at(new TcpFlow({ client: { ip: '10.0.0.2', port }, server: { ip: '10.0.0.3', port: 80 }, start: time }).handshake()[0]!, time);
  const forgedAnswer = ANSWER.replace('OK', 'NO');
  const within = [...packets, at(answer, T + 5, forgedAnswer)];
  const r1 = await run(within);
  assert.equal(r1.warnings.length, 1, JSON.stringify(r1.warnings));
  assert.match(r1.warnings[0]!.message, /retransmitted data differs/);
  // The greeting was acknowledged first, the answer a moment later: a stream is in the hold once at a time, so when
  // its turn comes (the capture's next segment after the greeting's hold, 20 s on) it takes another, and the ring goes
  // at the next segment after that.
  const hold = ACKNOWLEDGED_HOLD_SECONDS;
  const forged = (time: number) => at(answer, time, forgedAnswer);
  const r2 = await run([...packets, other(T + 2 * hold, 40000), forged(T + 2 * hold + 1)]);
  assert.equal(r2.warnings.length, 1, 'a turn taken again: still checked');
  const r3 = await run([...packets, other(T + 2 * hold, 40000), other(T + 3 * hold, 40001), forged(T + 3 * hold + 1)]);
  assert.deepEqual(r3.warnings, []);
  assert.deepEqual(show(r3.rec.pieces(0, 'server')), [GREETING + ANSWER], 'the first copy stays; nothing twice');
});


test('an ended conversation keeps its id for late segments while it lingers, then leaves the index (time and frames)', async (t) => {
  const T = 1_700_000_000;
  const at = (p: SynthPacket, time: number): SynthPacket => ({ ...p, t: time });
  // A: IMAP, ended by FINs. B: not IMAP, ended by FINs. C: not IMAP, reset.
  const a = new TcpFlow({ client: { ip: '10.0.0.1', port: 50000 }, start: T });
  const aPackets = [...a.handshake(), ...a.send('server', GREETING), ...a.send('client', 'a1 NOOP\r\n'), ...a.send('server', 'a1 OK\r\n'), ...a.close('fin')];
  const aLateAck = (time: number) => at(aPackets[aPackets.length - 1]!, time);
  const b = new TcpFlow({ client: { ip: '10.0.0.3', port: 40000 }, server: { ip: '10.0.0.2', port: 80 }, start: T + 0.1 });
  const bPackets = [...b.handshake(), ...b.close('fin', 'server')];
  const c = new TcpFlow({ client: { ip: '10.0.0.4', port: 40001 }, server: { ip: '10.0.0.2', port: 80 }, start: T + 0.2 });
  const cPackets = [...c.handshake(), ...c.close('rst')];
  // E: one SYN stamped ten years ahead. Time alone must not end what lingers: frames must pass too.
  const e = new TcpFlow({ client: { ip: '10.0.0.5', port: 40002 }, server: { ip: '10.0.0.2', port: 9999 }, start: T + 3e8 });
  // F: not IMAP, over 10,000 frames (4-byte segments and their ACKs), then quiet for minutes.
  const f = new TcpFlow({ client: { ip: '10.0.0.6', port: 40003 }, server: { ip: '10.0.0.2', port: 8080 }, start: T + 2, mss: 4 });
  const fBulk = [...f.handshake(), ...f.send('client', Buffer.alloc(30_000, 0x61))];
  assert.ok(fBulk.length > ENDED_LINGER_FRAMES);
  const lingering = [
    ...aPackets, ...bPackets, ...cPackets, ...e.handshake().slice(0, 1),
    aLateAck(T + 1), // frames have not passed
    ...fBulk,
    aLateAck(T + 100), // frames have passed, time has not
  ];
  const kept = await run(lingering);
  assert.deepEqual(kept.rec.conns.map((x) => x.id), [0], 'one IMAP connection: the late ACKs are its own');
  assert.equal(kept.rec.conns[0]!.lastFrame, lingering.length, 'its last frame is the last late ACK');
  assert.deepEqual(kept.rec.retirements, [{ id: 0, lastFrame: lingering.length, opened: 1 }], 'still lingering at the end of the input: retired there, with the last late ACK');
  await agreeWithTshark(t, kept, 'tshark gives the late ACKs the same tcp.stream');

  // Minutes later (both lingers passed), a segment of A, B or C no longer finds its conversation: it starts a new
  // one (tshark keeps it in the old one). A new IMAP connection D after them is numbered past them.
  f.wait(ENDED_LINGER_SECONDS + 60);
  const later = f.send('client', 'x');
  const now = Number(later[later.length - 1]!.t);
  const d = new TcpFlow({ client: { ip: '10.0.0.7', port: 50001 }, start: now + 1 });
  const ended = await run([
    ...lingering, ...later,
    aLateAck(now + 0.1),
    at(bPackets[bPackets.length - 1]!, now + 0.2),
    at(cPackets[cPackets.length - 1]!, now + 0.3),
    ...d.handshake(), ...d.send('server', GREETING),
  ]);
  const conns = ended.rec.conns.map((x) => ({ id: x.id, port: x.client.port, sawSyn: x.sawSyn }));
  // Ids: A 0, B 1, C 2, E 3, F 4; then A again 5, B again 6, C again 7, D 8.
  assert.deepEqual(conns, [{ id: 0, port: 50000, sawSyn: true }, { id: 5, port: 50000, sawSyn: false }, { id: 8, port: 50001, sawSyn: true }]);
  assert.equal(ended.rec.conns[0]!.lastFrame, lingering.length, 'the ended connection did not take the stray ACK');
  assert.deepEqual(ended.rec.retirements[0], { id: 0, lastFrame: lingering.length, opened: 1 }, 'A is retired once, final, when it leaves the index (before its stray ACK opens another)');
  assert.deepEqual(ended.rec.retirements.slice(1).map((r) => r.id).sort(), [5, 8], 'the connections open at the end are retired there');
});

test('past the cap on lingering conversations the oldest leaves the index early, with one warning naming the cap and the frame', async (t) => {
  const T = 1_700_000_000;
  // Four IMAP sessions one after another, each ended by FINs; then a late ACK of each, seconds later, oldest first.
  const sessions = [0, 1, 2, 3].map((i) => {
    const f = new TcpFlow({ client: { ip: '10.0.0.1', port: 50000 + i }, start: T + i });
    return [...f.handshake(), ...f.send('server', GREETING), ...f.send('client', 'a1 NOOP\r\n'), ...f.send('server', 'a1 OK\r\n'), ...f.close('fin')];
  });
  const all = sessions.flat();
  const lateAcks = sessions.map((p, i) => ({ ...p[p.length - 1]!, t: T + 10 + i }));
  const packets = [...all, ...lateAcks];
  const ids = (r: Run) => r.rec.conns.map((c) => ({ id: c.id, port: c.client.port, sawSyn: c.sawSyn }));
  const endOf = (i: number) => sessions.slice(0, i + 1).reduce((n, p) => n + p.length, 0);

  const uncapped = await run(packets);
  assert.deepEqual(ids(uncapped), [0, 1, 2, 3].map((i) => ({ id: i, port: 50000 + i, sawSyn: true })), 'every late ACK finds its conversation');
  assert.deepEqual(uncapped.rec.conns.map((c) => c.lastFrame), [0, 1, 2, 3].map((i) => all.length + i + 1));
  assert.deepEqual(uncapped.warnings, []);
  await agreeWithTshark(t, uncapped, 'tshark gives each late ACK its own conversation');

  // With room for two, the first left the index when the third ended, the second when the fourth did: their late
  // ACKs start conversations 4 and 5.
  const capped = await run(packets, { maxLingering: 2 });
  assert.deepEqual(ids(capped), [
    ...[0, 1, 2, 3].map((i) => ({ id: i, port: 50000 + i, sawSyn: true })),
    { id: 4, port: 50000, sawSyn: false }, { id: 5, port: 50001, sawSyn: false },
  ]);
  assert.deepEqual(capped.rec.conns.slice(0, 2).map((c) => c.lastFrame), [endOf(0), endOf(1)], 'the first two kept their own last frames');
  assert.deepEqual(capped.rec.conns.slice(2, 4).map((c) => c.lastFrame), [2, 3].map((i) => all.length + i + 1), 'the other two took their late ACKs');
  assert.equal(capped.warnings.length, 1, 'one warning, however often the cap is passed');
  const [w] = capped.warnings;
  assert.match(w!.message, /^more than 2 TCP conversations ended within 5 minutes \(the cap/);
  assert.ok(w!.frame! > endOf(1) && w!.frame! <= endOf(2), `the warning names the frame that ended the third (${w!.frame})`);
  assert.deepEqual(capped.rec.retirements.slice(0, 2), [{ id: 0, lastFrame: endOf(0), opened: 3 }, { id: 1, lastFrame: endOf(1), opened: 4 }],
    'each is retired, final, as it leaves: the first while the third is the newest opened, the second while the fourth is');
});

test('on a real recording (curl: five connections one after another) the cap on lingering changes nothing but its warning', async () => {
  const path = new URL('../../captures/curl.pcap', import.meta.url).pathname;
  const read = async (maxLingering?: number) => {
    const rec = new Recorder();
    const warnings: Warning[] = [];
    await streamCapture(path, rec, (w) => warnings.push(w), { maxLingering });
    checkInvariants(rec);
    return { rec, warnings };
  };
  const kept = await read();
  const capped = await read(1);
  assert.equal(kept.rec.conns.length, 5);
  assert.deepEqual(kept.warnings, []);
  // Each connection's last ACK comes right after its FINs, before the next one ends: leaving early loses none of them.
  assert.deepEqual(capped.rec.conns.map((c) => [c.id, c.firstFrame, c.lastFrame, c.state]), kept.rec.conns.map((c) => [c.id, c.firstFrame, c.lastFrame, c.state]));
  assert.deepEqual(capped.rec.events, kept.rec.events);
  assert.equal(capped.warnings.length, 1, 'one warning: a second connection ended while the first lingered');
  assert.match(capped.warnings[0]!.message, /^more than 1 TCP conversations ended within 5 minutes/);
  assert.deepEqual(capped.rec.retirements.map((r) => r.id), [0, 1, 2, 3, 4], 'each is retired once, in the order they ended');
  assert.ok(capped.rec.retirements.slice(0, 4).every((r, i) => r.opened <= i + 2), 'the first four as the next one ends, not at the end of the input');
  assert.deepEqual(kept.rec.retirements.map((r) => r.opened), [5, 5, 5, 5, 5], 'uncapped, all five linger to the end of the input');
  const none = await read(0);
  assert.deepEqual([none.rec.events, none.rec.retirements, none.warnings], [capped.rec.events, capped.rec.retirements, capped.warnings], 'a cap below 1 is taken as 1');
});

/** A TcpTracker fed the packets (written as a pcap and read back), not ended: what its index holds can be asked. */
async function trackerOver(packets: SynthPacket[], open: (c: Connection) => void = () => {}): Promise<TcpTracker> {
  const tracker = new TcpTracker({ open, data: () => {}, gap: () => {}, close: () => {} }, () => {}, { ports: new Set([143]), maxHeldBytes: 1 << 20 });
  const decoder = new PacketDecoder(() => {});
  await readCapture(write({ format: 'pcap', packets }), (frame) => {
    const seg = decoder.decode(frame);
    if (seg) tracker.segment(seg);
  }, () => {});
  return tracker;
}

test('the end of the input retires each connection it closes right after its close and keeps nothing of it; a record gets its counts at its close', async () => {
  const T = 1_700_000_000;
  const packets: SynthPacket[] = [];
  // Connection 0 ends early (FINs) and lingers; 1–3 are still open when the input ends.
  const early = new TcpFlow({ client: { ip: '10.0.0.9', port: 50009 }, start: T });
  packets.push(...early.handshake(), ...early.send('server', GREETING), ...early.close('fin'));
  for (let i = 1; i <= 3; i++) {
    const f = new TcpFlow({ client: { ip: `10.0.0.${i}`, port: 50000 + i }, start: T + i });
    packets.push(...f.handshake(), ...f.send('server', GREETING), ...f.send('client', `a${i} NOOP\r\n`));
  }
  const events: string[] = [];
  // The sink keeps no record: what the tracker keeps of one decides whether it lives on.
  const records: WeakRef<Connection>[] = [];
  const sink: StreamSink = {
    open: (c) => {
      records.push(new WeakRef(c));
    },
    data: (c) => assert.equal(c.stats.server.bytes + c.stats.client.bytes, 0, 'an open record counts nothing yet'),
    gap: () => {},
    close: (c, reason) => {
      assert.deepEqual(c.stats, { client: { bytes: c.id === 0 ? 0 : 'a1 NOOP\r\n'.length, gaps: 0, gapBytes: 0 }, server: { bytes: GREETING.length, gaps: 0, gapBytes: 0 } });
      events.push(`close ${c.id} ${reason}`);
    },
    retired: (late) => events.push(`retired ${late.id}`),
  };
  const tracker = new TcpTracker(sink, () => {}, { ports: new Set([143]), maxHeldBytes: 1 << 20 });
  const decoder = new PacketDecoder(() => {});
  await readCapture(write({ format: 'pcap', packets }), (frame) => {
    const seg = decoder.decode(frame);
    if (seg) tracker.segment(seg);
  }, () => {});
  // Ending pauses after each open connection it ends, saying how many are still to end.
  for (const left of tracker.ending()) events.push(`left ${left}`);
  assert.deepEqual(events, [
    'close 0 closed',
    // In the order they opened, each retired right after its close (final: nothing can move it).
    'close 1 end-of-capture', 'retired 1', 'left 2',
    'close 2 end-of-capture', 'retired 2', 'left 1',
    'close 3 end-of-capture', 'retired 3', 'left 0',
    // What still lingers is retired last.
    'retired 0',
  ]);
  await collectGarbage();
  assert.ok(tracker.indexedConversations > 0, 'the tracker is still alive');
  assert.deepEqual(records.map((r) => r.deref() === undefined), [true, true, true, true], 'no record is kept by the tracker');
});

test('ending many open connections collects after the first tenth, then again only once the heap is back where the last collection began', () => {
  let heap = 300;
  const collections = new EndingCollections(200_000, () => heap);
  assert.equal(collections.due(19_968), false, 'not before a tenth has ended');
  assert.equal(collections.due(20_224), true, 'the first, after a tenth');
  heap = 250; // the collection freed what the first tenth held
  assert.equal(collections.due(60_000), false, 'the heap is below the level the last collection began at');
  heap = 300;
  assert.equal(collections.due(40_000), false, 'back at that level, but not a tenth since the last');
  assert.equal(collections.due(40_224), true, 'back at that level, and a tenth since');
  heap = 299;
  assert.equal(collections.due(100_000), false);
  heap = 301;
  assert.equal(collections.due(100_000), true, 'the ceiling is the level the second began at');

  const few = new EndingCollections(9_999, () => Number.POSITIVE_INFINITY);
  for (let ended = 256; ended < 9_999; ended += 256) assert.equal(few.due(ended), false, 'with few, a full collection costs more than it saves');
  const never = new EndingCollections(200_000, () => Number.POSITIVE_INFINITY);
  let count = 0;
  for (let ended = 256; ended <= 200_000; ended += 256) if (never.due(ended)) count++;
  assert.equal(count, 9, 'at most one per tenth, however full the heap stays');
});

test('the memory the end of the input watches counts buffers outside the heap as well as the heap', async () => {
  await collectGarbage(); // no garbage left for a collection the allocations below may start to take back
  const before = inUse();
  const held = new Uint8Array(32 * 1024 * 1024).fill(1);
  assert.ok(inUse() - before >= 0.9 * held.length, 'a 32 MiB typed array counts');
  const objects = Array.from({ length: 1_000_000 }, (_, i) => ({ i })); // at least 32 bytes each, with its slot
  assert.ok(inUse() - before >= 0.9 * (held.length + objects.length * 24), 'and so do objects on the heap');
  assert.equal(held[0]! + objects.length, 1_000_001);
});

test('the pipeline collects the garbage while it ends 10,000 open connections: first after a tenth of them, then at least a tenth apart, and after the last', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-ending-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'open.pcap');
  await generateScaleCapture('open', 10_000, path);
  let closed = 0;
  const collectedAfter: number[] = [];
  const host = globalThis as { gc?: () => void };
  const hostGc = host.gc;
  host.gc = () => collectedAfter.push(closed);
  try {
    await streamCapture(path, { open: () => {}, data: () => {}, gap: () => {}, close: () => { closed++; } }, () => {});
  } finally {
    host.gc = hostGc;
  }
  assert.equal(closed, 10_000);
  assert.equal(collectedAfter[0], 1_024, 'the first batch boundary after a tenth');
  assert.equal(collectedAfter.at(-1), 10_000, 'and once more after the last');
  const during = collectedAfter.slice(0, -1);
  for (let i = 1; i < during.length; i++) assert.ok(during[i]! - during[i - 1]! >= 1_000, `collections ${collectedAfter.join(', ')} a tenth apart`);
});

test('the index lets go of ended conversations, and of the addresses no conversation in it has; every segment still finds its own', async () => {
  const T = 1_700_000_000;
  const packets: SynthPacket[] = [];
  /** IMAP sessions, each from an address of its own, closed. */
  const sessions = (count: number, net: number, start: number) => {
    for (let i = 0; i < count; i++) {
      const f = new TcpFlow({ client: { ip: `10.${net}.${i >> 8}.${i & 255}`, port: 50000 }, start: start + i * 0.01 });
      packets.push(...f.handshake(), ...f.send('server', GREETING), ...f.send('client', 'a1 LOGOUT\r\n'), ...f.close('fin'));
    }
  };
  const first = MIN_ADDRESS_SWEEP + 100;
  sessions(first, 1, T);
  // A reused 4-tuple: a second SYN with another ISN is a new conversation; the first never ended.
  const reused = (isn: number, start: number) => new TcpFlow({ client: { ip: '10.3.0.1', port: 50001 }, clientIsn: isn, start });
  const second = reused(900_000, T + 51);
  packets.push(...reused(1000, T + 50).handshake(), ...second.handshake(), ...second.close('fin'));
  // Minutes and over 10,000 frames later (a non-IMAP conversation, F), as many sessions again from new addresses:
  // the addresses now pass twice what the last sweep kept, and the first sessions' go.
  const f = new TcpFlow({ client: { ip: '10.4.0.1', port: 40000 }, server: { ip: '10.4.0.2', port: 8080 }, start: T + 60, mss: 4 });
  packets.push(...f.handshake(), ...f.send('client', Buffer.alloc(48_000, 0x61)));
  f.wait(ENDED_LINGER_SECONDS + 60);
  packets.push(...f.send('client', 'x'));
  sessions(first, 2, f.now + 1);
  const ids: number[] = [];
  const tracker = await trackerOver(packets, (c) => { ids.push(c.id); });
  // Ids: the first sessions, the reused 4-tuple's two, F, then the later sessions: one each, none split by a sweep.
  const expected = [...Array(first + 2).keys(), ...Array.from({ length: first }, (_, i) => first + 3 + i)];
  assert.deepEqual(ids, expected, 'every IMAP connection its own id');
  assert.equal(tracker.overview().conversations, 2 * first + 3);
  // The later sessions ended but have not lingered; everything before them has, but F, which never ended.
  assert.equal(tracker.indexedConversations, first + 1);
  const held = tracker.heldAddresses;
  assert.ok(held >= first + 3 && held < first + 3 + MIN_ADDRESS_SWEEP, `addresses held: ${held}, at most those since the last sweep beyond the ${first + 3} in use`);
  assert.ok(held < 2 * first, 'the first sessions\' addresses went');
  tracker.end();
});

test('past the small address ids, IPv4 addresses need no entry of their own, and every segment still finds its own connection', async () => {
  const T = 1_700_000_000;
  const packets: SynthPacket[] = [];
  const count = SMALL_ADDRESS_IDS + 300;
  const flows: TcpFlow[] = [];
  // Each client from an address of its own, left open: its greeting and its command.
  for (let i = 0; i < count; i++) {
    const f = new TcpFlow({ client: { ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, port: 50000 + (i % 7) }, start: T + i * 0.001 });
    flows.push(f);
    packets.push(...f.handshake(), ...f.send('server', GREETING), ...f.send('client', `a${i} NOOP\r\n`));
  }
  // Later segments of an early connection (an address with an id) and of a late one (an address without), and a new
  // connection from the first address, seen again once the ids are all given.
  for (const i of [0, count - 1]) packets.push(...flows[i]!.send('client', `b${i} NOOP\r\n`), ...flows[i]!.send('server', `* OK ${i}\r\n`));
  const again = new TcpFlow({ client: { ip: '10.0.0.0', port: 40000 }, start: T + count });
  packets.push(...again.handshake(), ...again.send('client', 'c NOOP\r\n'));
  // And a second connection from the last address: its endpoints differ by the port alone.
  const last = flows[count - 1]!;
  const sibling = new TcpFlow({ client: { ip: last.ends.client.ip, port: 40001 }, start: T + count + 1 });
  packets.push(...sibling.handshake(), ...sibling.send('client', 'd NOOP\r\n'), ...last.send('client', 'e NOOP\r\n'));
  const said = new Map<number, string[]>();
  const tracker = new TcpTracker({
    open: () => {},
    data: (c, side, bytes) => {
      const list = said.get(c.id) ?? [];
      list.push(`${side}:${bytes.toString('latin1')}`);
      said.set(c.id, list);
    },
    gap: () => {},
    close: () => {},
  }, () => {}, { ports: new Set([143]), maxHeldBytes: 1 << 20 });
  const decoder = new PacketDecoder(() => {});
  await readCapture(write({ format: 'pcap', packets }), (frame) => {
    const seg = decoder.decode(frame);
    if (seg) tracker.segment(seg);
  }, () => {});
  assert.equal(tracker.overview().conversations, count + 2, 'no segment started a conversation of its own');
  for (let i = 0; i < count; i++) {
    const expected = [`server:${GREETING}`, `client:a${i} NOOP\r\n`];
    if (i === 0 || i === count - 1) expected.push(`client:b${i} NOOP\r\n`, `server:* OK ${i}\r\n`);
    if (i === count - 1) expected.push('client:e NOOP\r\n');
    assert.deepEqual(said.get(i), expected, `connection ${i}`);
  }
  assert.deepEqual(said.get(count), ['client:c NOOP\r\n'], 'the first address, seen again');
  assert.deepEqual(said.get(count + 1), ['client:d NOOP\r\n'], 'the last address, from another port');
  assert.ok(tracker.heldAddresses <= SMALL_ADDRESS_IDS + 1, `addresses held: ${tracker.heldAddresses}`);
  tracker.end();
});

test('a conversation ended by a frame stamped years ahead leaves the index too, and holds back none that ended after it', async () => {
  const T = 1_700_000_000;
  const packets: SynthPacket[] = [];
  // X: not IMAP; its RST is stamped ten years ahead. Y: not IMAP, ends normally just after.
  const x = new TcpFlow({ client: { ip: '10.5.0.1', port: 40000 }, server: { ip: '10.5.0.2', port: 80 }, start: T });
  packets.push(...x.handshake(), ...x.close('rst').map((p) => ({ ...p, t: T + 3e8 })));
  const y = new TcpFlow({ client: { ip: '10.5.0.3', port: 40001 }, server: { ip: '10.5.0.2', port: 80 }, start: T + 1 });
  packets.push(...y.handshake(), ...y.close('fin'));
  // F: over 10,000 frames and minutes of normal time later.
  const f = new TcpFlow({ client: { ip: '10.5.0.4', port: 40002 }, server: { ip: '10.5.0.2', port: 8080 }, start: T + 2, mss: 4 });
  packets.push(...f.handshake(), ...f.send('client', Buffer.alloc(48_000, 0x61)));
  f.wait(ENDED_LINGER_SECONDS + 60);
  packets.push(...f.send('client', 'x'));
  const tracker = await trackerOver(packets);
  assert.equal(tracker.overview().conversations, 3);
  assert.equal(tracker.indexedConversations, 1, 'only F, which never ended');
  tracker.end();
});

test('a conversation first named by an ICMP quote of the server\'s segment: the client\'s bytes are still the client\'s', () => {
  // The quote makes the server's endpoint the conversation's "A"; the client's SYN then opens the connection from "B".
  const rec = new Recorder();
  const tracker = new TcpTracker(rec, () => {}, { ports: new Set([143]), maxHeldBytes: 1 << 20 });
  const client = { ip: 0xc0a80001 | 0, port: 50000 }; // 192.168.0.1 (its first octet sets the sign bit)
  const server = { ip: 0x0a000001, port: 143 }; // 10.0.0.1
  let n = 0;
  const segment = (from: typeof client, to: typeof client, seq: number, ack: number, flags: number, text = '', quoted = false) => tracker.segment({
    frame: { number: ++n, tsSec: 1_700_000_000, tsNsec: n, tsDigits: 9, linkType: 1, data: Buffer.alloc(0), origLen: 0, iface: 0 },
    src: from.ip, dst: to.ip, srcPort: from.port, dstPort: to.port, seq, ack, flags, window: 1000, payload: Buffer.from(text), missingPayload: 0, ...(quoted ? { quoted } : {}),
  });
  segment(server, client, 5000, 0, 0, '', true);
  segment(client, server, 100, 0, 0x02);
  segment(server, client, 5000, 101, 0x12);
  segment(server, client, 5001, 101, 0x18, '* OK ready\r\n');
  segment(client, server, 101, 5013, 0x18, 'a1 NOOP\r\n');
  tracker.end();
  const data = rec.events.filter((e) => e.kind === 'data').map((e) => e.kind === 'data' && [e.side, e.bytes.toString()]);
  assert.deepEqual(data, [['server', '* OK ready\r\n'], ['client', 'a1 NOOP\r\n']]);
  assert.deepEqual([rec.conn(0).client, rec.conn(0).server], [{ ip: '192.168.0.1', port: 50000 }, { ip: '10.0.0.1', port: 143 }]);
});

test('rings of connections that close go back to the pool; those the end of the input closes do not (nothing would take them)', async () => {
  const pool = new RingPool();
  const tracker = new TcpTracker({ open: () => {}, data: () => {}, gap: () => {}, close: () => {} }, () => {}, { ports: new Set([143]), maxHeldBytes: 1 << 20, rings: pool });
  const session = (port: number, close: boolean) => {
    const f = new TcpFlow({ client: { ip: '10.0.0.1', port }, start: 1_700_000_000 + port / 1000 });
    return [...f.handshake(), ...f.send('server', GREETING), ...f.send('client', 'a1 NOOP\r\n'), ...(close ? f.close('fin') : [])];
  };
  const decoder = new PacketDecoder(() => {});
  await readCapture(write({ format: 'pcap', packets: [...session(50001, false), ...session(50002, false), ...session(50000, true)] }), (frame) => {
    const seg = decoder.decode(frame);
    if (seg) tracker.segment(seg);
  }, () => {});
  // The last connection closed: its rings are spares (the two before it took none, as the pool was empty then).
  const closed = pool.pooled;
  assert.ok(closed >= GREETING.length + 'a1 NOOP\r\n'.length, `the closed connection's two rings are spares (${closed} bytes)`);
  tracker.end();
  assert.equal(pool.pooled, closed, 'the two connections the end of the input closed gave nothing back');
});

// ---------------------------------------------------------------------------------------------------------------
// A bare SYN makes no stream: what it says is kept as the conversation's first sequence number

/** Client data at offsets from its first byte (after the SYN) and seconds after the handshake, acknowledging nothing new. */
function afterSyn(flow: TcpFlow, list: [offset: number, data: string, after: number][]): SynthPacket[] {
  const { client: c, server: s } = flow.ends;
  const base = flow.nextSeq('client');
  const start = flow.now;
  return list.map(([off, data, after]) => ({ t: start + after, src: c.ip, dst: s.ip, sport: c.port, dport: s.port, seq: (base + off) >>> 0, ack: flow.nextSeq('server'), flags: data ? 'PA' : 'A', payload: data }));
}

test('after a SYN the capture holds nothing else of, a direction\'s bytes still begin where the SYN said: the first ones missing are a gap', async () => {
  const flow = new TcpFlow();
  const [syn] = flow.handshake(); // the SYN-ACK and the ACK are not in the capture
  const r = await run([syn!, ...afterSyn(flow, [[4, 'BBBB', 1]])]);
  assertPieces(r.rec.pieces(0, 'client'), [4, 'BBBB'], 'client');
  assert.equal(r.rec.conn(0).sawSyn, true);
});

test('the peer\'s acknowledgement of a bare SYN counts: a hole after the handshake waits for proof, not 3 s', async () => {
  const flow = new TcpFlow();
  // The server acknowledges the SYN and nothing after it: the hole at the client's first bytes is not given up after
  // UNACKED_HOLE_SECONDS (an ACK was captured: later ones would say whether the bytes came), but at the end.
  const r = await run([...flow.handshake(), ...afterSyn(flow, [[4, 'BBBB', 1], [8, 'CCCC', 6], [12, '', 7]])]);
  assertPieces(r.rec.pieces(0, 'client'), [4, 'BBBBCCCC'], 'client');
  const gap = r.rec.events.find((e) => e.kind === 'gap');
  assert.ok(gap && gap.kind === 'gap');
  assert.equal(gap.frame, r.packets.length, 'the hole is given up at the end, at the last frame');
});
