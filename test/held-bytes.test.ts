/**
 * Out-of-order bytes in a capture of one direction, which holds none of the ACKs that prove a hole: the cap on what all
 * the streams hold together (src/tcp/held-bytes.ts), and the 3 s a hole waits for a retransmission
 * (UNACKED_HOLE_SECONDS). Each connection that missed a segment held everything after it until the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/index.js';
import { readCapture } from '../src/capture/reader.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import { HeldBytes, type HoleHolder } from '../src/tcp/held-bytes.js';
import { TcpTracker } from '../src/tcp/tracker.js';
import { CAPTURES } from './helpers/env.js';
import { pcapFileHeader, pcapRecord, TcpFlow, writeCapture } from './helpers/synth.js';

/** A holder of segments behind holes: each hole's segments, by their sizes. */
class Holder implements HoleHolder {
  queuedForHeld = false;
  /** Bytes of each hole given up. */
  readonly gaveUp: number[] = [];
  holes: number[][] = [];
  constructor(readonly name: string, private readonly held: HeldBytes) {}
  get holding(): number {
    return this.holes.flat().reduce((n, h) => n + h, 0);
  }
  /** One segment of `bytes`, behind a hole of its own or after the last one's segments. */
  hold(bytes: number, newHole: boolean): void {
    const began = this.holes.length === 0;
    if (newHole || began) this.holes.push([bytes]);
    else this.holes[this.holes.length - 1]!.push(bytes);
    this.held.more(this, bytes, began, 0);
  }
  giveUpOldestHole(): void {
    this.gaveUp.push(this.release(this.holes.shift()!));
  }
  fill(): void {
    while (this.holes.length > 0) this.release(this.holes.shift()!);
  }
  /** A hole's segments go (it left the list), one by one as a stream delivers them; their bytes. */
  private release(segments: number[]): number {
    segments.forEach((bytes, i) => this.held.less(bytes, this.holes.length === 0 && i === segments.length - 1));
    return segments.reduce((n, b) => n + b, 0);
  }
}

test('past the cap the stream that began holding first gives up its oldest hole; one that still holds goes to the back', () => {
  const passed: (number | null)[] = [];
  const held = new HeldBytes(100, (w) => passed.push(w.frame));
  const [a, b, c] = ['a', 'b', 'c'].map((n) => new Holder(n, held));
  a!.hold(30, true);
  b!.hold(30, true);
  a!.hold(20, true); // a: two holes, 30 and 20
  c!.hold(15, true);
  assert.equal(held.held, 95);
  c!.hold(10, false); // 105: a, first to hold, gives up its first hole (30)
  assert.deepEqual([a!.gaveUp, b!.gaveUp, c!.gaveUp], [[30], [], []]);
  assert.equal(held.held, 75);
  b!.hold(40, false); // 115: b is now the first in line (a went to the back), and gives up its only hole (70)
  assert.deepEqual([a!.gaveUp, b!.gaveUp, c!.gaveUp], [[30], [70], []]);
  assert.equal(held.held, 45);
  assert.deepEqual(passed, [0], 'one warning, when the cap is first passed');
  assert.equal(held.queued, 2, 'c, then a');
});

test('past the cap on segments the stream that began holding first gives up its oldest hole, whatever their bytes', () => {
  const passed: string[] = [];
  const held = new HeldBytes(1 << 30, (w) => passed.push(`${w.frame}: ${w.message}`), 4);
  const [a, b] = ['a', 'b'].map((n) => new Holder(n, held));
  a!.hold(1, true);
  a!.hold(1, false);
  b!.hold(1, true);
  a!.hold(1, true); // a: two holes, of two segments and of one
  assert.equal(held.heldSegments, 4);
  assert.deepEqual([a!.gaveUp, b!.gaveUp], [[], []], 'at the cap, not past it');
  b!.hold(1, false); // 5 segments: a gives up its first hole (two segments)
  assert.deepEqual([a!.gaveUp, b!.gaveUp], [[2], []]);
  assert.equal(held.heldSegments, 3);
  assert.equal(held.held, 3);
  assert.deepEqual(passed, ['0: more than 4 out-of-order segments held by all connections together (the cap): from here the one that began holding first gives up its oldest hole, reported as missing bytes']);
  a!.fill();
  b!.fill();
  assert.equal(held.heldSegments, 0, 'nothing counted once they let it go');
  assert.equal(held.held, 0);
});

test('streams that stop holding are dropped from the queue before they outnumber those holding by 1,024', () => {
  const held = new HeldBytes(1 << 30, () => assert.fail('the cap is not reached'));
  const keeper = new Holder('keeper', held);
  keeper.hold(10, true);
  for (let i = 0; i < 100_000; i++) {
    const h = new Holder(`h${i}`, held);
    h.hold(100, true);
    h.fill();
    assert.ok(held.queued <= 2 * 1 + 1025, `after ${i + 1}: ${held.queued} queued`);
  }
  assert.equal(held.held, 10);
});

const dir = mkdtempSync(join(tmpdir(), 'imapscope-held-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/**
 * A recording as a tap on one direction sees it: only the server's packets, and of each connection one of the server's
 * data segments missing (the third), so that everything after it waits for an ACK the capture does not have.
 */
async function serverSideWithAHole(name: string, stretch = 1): Promise<{ path: string; framesOf: Map<number, Set<number>>; times: bigint[] }> {
  const decoder = new PacketDecoder(() => {});
  const dataSegments = new Map<number, number>();
  const records: Buffer[] = [];
  /** The new capture's frames of each connection, by the client's port. */
  const framesOf = new Map<number, Set<number>>();
  let linkType = -1;
  /** Each new frame's time, in nanoseconds; `stretch` times as far from the first as it was. */
  const times: bigint[] = [];
  let first: bigint | null = null;
  await readCapture(join(CAPTURES, name), (frame) => {
    const seg = decoder.decode(frame);
    if (!seg || seg.srcPort !== 143) return;
    if (seg.payload.length > 0) {
      const n = (dataSegments.get(seg.dstPort) ?? 0) + 1;
      dataSegments.set(seg.dstPort, n);
      if (n === 3) return;
    }
    linkType = frame.linkType;
    const t = BigInt(frame.tsSec) * 1_000_000_000n + BigInt(frame.tsNsec);
    first ??= t;
    times.push(first + (t - first) * BigInt(stretch));
    records.push(pcapRecord(times.at(-1)!, frame.data, frame.origLen, true));
    if (!framesOf.has(seg.dstPort)) framesOf.set(seg.dstPort, new Set());
    framesOf.get(seg.dstPort)!.add(records.length);
  }, () => {});
  const path = join(dir, `${name}.tap${stretch}.pcap`);
  writeFileSync(path, Buffer.concat([pcapFileHeader(linkType, true), ...records]));
  return { path, framesOf, times };
}

/** The caps on what all connections hold together, each made small: on bytes, and on segments. */
const SMALL_CAPS = [
  { cap: '4 KiB', limits: { maxHeldTotal: 4096 }, said: 'more than 4096 bytes of out-of-order data' },
  { cap: 'two segments', limits: { maxHeldSegmentsTotal: 2 }, said: 'more than 2 out-of-order segments' },
];

for (const name of ['fetchmail.pcap', 'offlineimap.pcapng', 'seed-alice.pcap']) for (const { cap, limits, said } of SMALL_CAPS) {
  test(`on a real recording (${name}) seen as one direction with a hole per connection: a small cap (${cap}) gives holes up sooner, and changes nothing else`, async () => {
    const { path, framesOf, times } = await serverSideWithAHole(name);
    const free = await analyze(path, { limits: { maxHeldTotal: 1 << 30 } });
    const capped = await analyze(path, { limits });
    assert.equal(free.warnings.filter((w) => /\(the cap\)/.test(w.message)).length, 0);
    const passed = capped.warnings.filter((w) => /held by all connections together \(the cap\)/.test(w.message));
    assert.equal(passed.length, 1, 'one warning for the cap');
    assert.ok(passed[0]!.message.startsWith(`${said} held by all connections together (the cap): from here the one that began holding first gives up its oldest hole`), passed[0]!.message);
    const counts = (a: typeof free) => a.connections.map((c) => [c.conn.id, c.conn.stats.server.bytes, c.conn.stats.server.gaps, c.conn.stats.server.gapBytes]);
    assert.deepEqual(counts(capped), counts(free), 'the same bytes, the same holes');
    assert.ok(free.connections.every((c) => c.conn.stats.server.gaps === 1), 'one hole per connection');
    const what = (a: typeof free) => a.exchanges.map((e) => [e.conn, e.tag, e.command, e.status, e.text, e.untagged]).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    assert.deepEqual(what(capped), what(free), 'the same exchanges');
    assert.ok(free.exchanges.length > 0);
    // Each response is dissected at its own frame or, waiting behind a hole, at a later one: never later with the cap.
    const frames = new Map(free.exchanges.map((e) => [`${e.conn} ${e.tag} ${e.text}`, e.responseFrame!]));
    let sooner = 0;
    for (const e of capped.exchanges) {
      const before = frames.get(`${e.conn} ${e.tag} ${e.text}`)!;
      assert.ok(e.responseFrame! <= before, `${e.conn} ${e.tag}: frame ${e.responseFrame} with the cap, ${before} without`);
      if (e.responseFrame! < before) sooner++;
    }
    assert.ok(sooner > 0, 'some responses are dissected sooner');
    // A hole another connection's segment made give up is reported, and what follows it dissected, at this connection's frames.
    const portOf = new Map(capped.connections.map((c) => [c.conn.id, c.conn.client.port]));
    for (const e of capped.exchanges) assert.ok(framesOf.get(portOf.get(e.conn)!)!.has(e.responseFrame!), `${e.conn} ${e.tag}: frame ${e.responseFrame} is its connection's`);
    for (const w of capped.warnings.filter((x) => /bytes missing/.test(x.message))) assert.ok(framesOf.get(portOf.get(w.conn!)!)!.has(w.frame!), `the gap of ${w.conn} in its own frame ${w.frame}`);
    // And at that frame's time: a response's end is the time of its frame.
    for (const e of capped.exchanges) {
      assert.equal(BigInt(e.endTime!.sec) * 1_000_000_000n + BigInt(e.endTime!.nsec), times[e.responseFrame! - 1], `${e.conn} ${e.tag}: its end is frame ${e.responseFrame}'s time`);
    }
  });
}

test('the cap on segments one direction holds is the library\'s limit too (fetchmail seen as one direction with a hole)', async () => {
  const { path } = await serverSideWithAHole('fetchmail.pcap');
  const free = await analyze(path);
  const capped = await analyze(path, { limits: { maxHeldSegments: 1 } });
  const said = (a: typeof free) => a.warnings.filter((w) => /out-of-order segments held; giving up/.test(w.message)).map((w) => w.message);
  assert.deepEqual(said(free), []);
  assert.deepEqual(said(capped), ['connection 0 server→client: more than 1 out-of-order segments held; giving up on the missing data before them (reported as a gap)']);
  const stats = (a: typeof free) => a.connections.map((c) => c.conn.stats.server);
  assert.deepEqual(stats(capped), stats(free), 'the same bytes and the same hole, given up sooner');
});

test('what every stream holds is counted, and nothing is counted once they let it go', async () => {
  const { path } = await serverSideWithAHole('seed-alice.pcap');
  const tracker = new TcpTracker({ open: () => {}, data: () => {}, gap: () => {}, close: () => {} }, () => {}, { ports: new Set([143]), maxHeldBytes: 1 << 20 });
  const decoder = new PacketDecoder(() => {});
  await readCapture(path, (frame) => {
    const seg = decoder.decode(frame);
    if (seg) tracker.segment(seg);
  }, () => {});
  // Each connection holds what its server sent after the missing segment, until its FIN proved the hole: some are
  // still open at the end of the tap (their FINs were sent by the client, not captured).
  assert.ok(tracker.heldBytes > 0, `${tracker.heldBytes} held at the end of the input`);
  tracker.end();
  assert.equal(tracker.heldBytes, 0, 'nothing held once every connection ended');
});

test('a hole no ACK can prove waits 3 s of capture time for a retransmission, not until the connection ends (fetchmail, one direction)', async () => {
  // As recorded the session lasts 0.11 s: the hole waits for its end, and every response after it is dissected there.
  const quick = await serverSideWithAHole('fetchmail.pcap');
  const asRecorded = await analyze(quick.path);
  const last = Math.max(...asRecorded.exchanges.map((e) => e.responseFrame!));
  const afterHole = asRecorded.exchanges.filter((e) => e.responseFrame === last);
  assert.ok(afterHole.length > 10, `${afterHole.length} responses wait for the end`);
  // Its clock run 100 times slower (a slow link): 3 s after the first segment held, the hole is given up.
  const slow = await serverSideWithAHole('fetchmail.pcap', 100);
  const a = await analyze(slow.path);
  const what = (x: typeof a) => x.exchanges.map((e) => [e.conn, e.tag, e.status, e.text]);
  assert.deepEqual(what(a), what(asRecorded), 'the same exchanges');
  assert.deepEqual(a.connections.map((c) => [c.conn.stats.server.gaps, c.conn.stats.server.gapBytes]), asRecorded.connections.map((c) => [c.conn.stats.server.gaps, c.conn.stats.server.gapBytes]));
  const seconds = (frame: number) => Number(slow.times[frame - 1]! - slow.times[0]!) / 1e9;
  const gap = a.warnings.find((w) => /bytes missing/.test(w.message))!;
  const firstHeld = Math.min(...a.exchanges.filter((e) => e.responseFrame! >= gap.frame!).map((e) => e.responseFrame!));
  assert.ok(seconds(gap.frame!) >= 3, `the hole is given up ${seconds(gap.frame!)} s into the capture, 3 s after what follows it came`);
  const late = a.exchanges.filter((e) => e.responseFrame! < last);
  assert.ok(late.length > afterHole.length / 2, `most responses after the hole are dissected before the end (${late.length})`);
  assert.ok(firstHeld === gap.frame, 'what waited behind the hole is dissected where it was given up');
});

test('a hole the peer\'s ACKs show unfilled waits for its retransmission, however long it takes', async () => {
  const f = new TcpFlow({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 143 }, start: 1_700_000_000 });
  const response = '* 1 FETCH (BODY[] {3000}\r\n' + 'x'.repeat(3000) + ')\r\na1 OK done\r\n';
  const packets = [...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 'a1 FETCH 1 BODY[]\r\n')];
  // The response's second segment is lost on the way: the client acknowledges only what came before it (duplicate
  // ACKs) until the server retransmits it, 10 s later.
  const sent = f.send('server', response);
  const data = sent.filter((p) => p.sport === 143 && p.payload !== undefined && p.payload.length > 0);
  const lost = data[1]!;
  const before = (lost.seq + 0) >>> 0;
  for (const p of sent) {
    if (p === lost) continue;
    packets.push(p.sport === 143 ? p : { ...p, ack: before });
  }
  // 5 s on, the server pushes more (held behind the hole too), and the client still acknowledges only up to it.
  for (const p of f.send('server', '* 2 EXISTS\r\n')) packets.push({ ...p, t: 1_700_000_005, ...(p.sport === 143 ? {} : { ack: before }) });
  const last = sent.at(-1)!;
  packets.push({ ...lost, t: 1_700_000_010 }, { ...last, t: 1_700_000_010.001 });
  const path = join(dir, 'retransmitted.pcap');
  writeCapture(path, { format: 'pcap', packets });
  const a = await analyze(path);
  assert.deepEqual(a.connections.map((c) => c.conn.stats.server.gaps), [0], 'no gap: the retransmission filled the hole');
  const fetch = a.exchanges.find((e) => e.tag === 'a1')!;
  assert.deepEqual([fetch.status, fetch.responseFrame, fetch.untagged], ['OK', packets.length - 1, 1], 'the response (its FETCH data and completion) completes with the retransmission');
  assert.equal(a.connections[0]!.unsolicited, 1, 'and the EXISTS pushed after it follows');
});
