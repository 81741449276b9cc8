/**
 * The cap on TCP conversations open at once (src/tcp/open-conversations.ts): past it one quiet for long is let go, so
 * that a capture of a SYN flood or of millions of idle clients ends with warnings rather than with V8 out of memory.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/index.js';
import { streamCapture } from '../src/pipeline.js';
import type { Warning } from '../src/capture/types.js';
import type { Connection, StreamSink } from '../src/tcp/types.js';
import { LET_GO_WARNED, OPEN_CONVERSATION_BUDGET, openConversationCap, OpenConversations, type Clocked } from '../src/tcp/open-conversations.js';
import { CAPTURES, CLI } from './helpers/env.js';
import { seededInt } from './helpers/random.js';
import { withScaleCapture } from './helpers/scale.js';
import { TcpFlow, writeCapture, type SynthPacket } from './helpers/synth.js';

class Entry implements Clocked {
  isOpen = true;
  seen = false;
  constructor(readonly id: number) {}
  passed(): boolean {
    const seen = this.seen;
    this.seen = false;
    return seen;
  }
}

test('the cap follows the heap limit: 8 KiB of it per conversation, never fewer than 1,024', () => {
  assert.equal(openConversationCap(4096 * 1024 * 1024), 4096 * 1024 * 1024 / OPEN_CONVERSATION_BUDGET);
  assert.equal(openConversationCap(4096 * 1024 * 1024), 524_288);
  assert.equal(openConversationCap(1024 * 1024), 1024);
  assert.ok(openConversationCap() >= 1024);
});

test('the clock lets go the oldest that took no segment since the hand passed it, the others get a second chance', () => {
  const clock = new OpenConversations<Entry>(3);
  const [a, b, c] = [new Entry(0), new Entry(1), new Entry(2)];
  for (const e of [a, b, c]) clock.opened(e);
  assert.equal(clock.full, true);
  a.seen = true;
  assert.equal(clock.quietest(() => [a, b, c]), b, 'a took a segment: b is the quietest');
  b.isOpen = false;
  clock.left();
  assert.equal(clock.full, false);
  const d = new Entry(3);
  clock.opened(d);
  c.seen = true;
  d.seen = true;
  // The hand is at c: c and d get their second chance, then a (its own was used up when the hand passed it) goes.
  assert.equal(clock.quietest(() => assert.fail('the queue is made once')), a);
  a.isOpen = false;
  clock.left();
  assert.equal(clock.size, 2);
  assert.equal(clock.queued, 2, 'c and d, each once');
});

test('once the cap was reached, conversations that open and end under it are not kept in the queue', () => {
  const clock = new OpenConversations<Entry>(10);
  const first = Array.from({ length: 10 }, (_, i) => new Entry(i));
  for (const e of first) clock.opened(e);
  const gone = clock.quietest(() => first);
  gone.isOpen = false;
  clock.left();
  // A quiet time follows: 100,000 short sessions one after another, never more than ten open.
  for (let i = 0; i < 100_000; i++) {
    const e = new Entry(10 + i);
    clock.opened(e);
    e.isOpen = false;
    clock.left();
    assert.ok(clock.queued <= 2 * clock.size + 1025, `after ${i + 1}: ${clock.queued} queued for ${clock.size} open`);
  }
  assert.equal(clock.size, 9);
});

test('the clock agrees with a plain one over 200,000 random steps, and its queue stays within twice the open ones', () => {
  // The plain clock: the open ones in hand order, with flags of its own; those passed with a segment go to the back.
  const random = seededInt(7);
  const clock = new OpenConversations<Entry>(500);
  let plain: Entry[] = [];
  const plainSeen = new Map<Entry, boolean>();
  let next = 0;
  let lettings = 0;
  for (let step = 0; step < 200_000; step++) {
    const roll = random(100);
    if (roll < 45 || plain.length === 0) {
      if (clock.full) {
        let expected: Entry;
        for (;;) {
          expected = plain.shift()!;
          if (!plainSeen.get(expected)) break;
          plainSeen.set(expected, false);
          plain.push(expected);
        }
        const got = clock.quietest(() => [...plain, expected].sort((x, y) => x.id - y.id));
        assert.equal(got, expected, `step ${step}: the clock let go ${got.id}, the plain one ${expected.id}`);
        for (const e of plain) assert.equal(e.seen, plainSeen.get(e), `step ${step}: entry ${e.id} passed as the plain clock passed it`);
        got.isOpen = false;
        clock.left();
        lettings++;
      }
      const e = new Entry(next++);
      plain.push(e);
      plainSeen.set(e, false);
      clock.opened(e);
    } else if (roll < 80) {
      const e = plain[random(plain.length)]!;
      e.seen = true;
      plainSeen.set(e, true);
    } else {
      const e = plain[random(plain.length)]!;
      e.isOpen = false;
      plain = plain.filter((x) => x !== e);
      clock.left();
    }
    assert.equal(clock.size, plain.length);
    assert.ok(clock.queued <= 2 * plain.length + 2048, `step ${step}: ${clock.queued} queued for ${plain.length} open`);
  }
  assert.ok(lettings > 10_000, `the cap was reached often (${lettings})`);
});

/** Every event the pipeline hands a sink, in order. */
class Events implements StreamSink<number> {
  readonly log: string[] = [];
  readonly conns: Connection[] = [];
  open(conn: Connection): number {
    this.conns.push(conn);
    this.log.push(`open ${conn.id}`);
    return conn.id;
  }
  data(conn: Connection, side: string, bytes: Buffer): void {
    this.log.push(`data ${conn.id} ${side} ${bytes.toString('latin1').trim()}`);
  }
  gap(conn: Connection, side: string, length: number): void {
    this.log.push(`gap ${conn.id} ${side} ${length}`);
  }
  close(conn: Connection, reason: string): void {
    this.log.push(`close ${conn.id} ${reason} ${conn.state}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'imapscope-open-cap-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function run(packets: SynthPacket[], maxOpen: number): Promise<{ events: Events; warnings: Warning[] }> {
  const path = join(dir, `t${files++}.pcap`);
  writeCapture(path, { format: 'pcap', packets });
  const events = new Events();
  const warnings: Warning[] = [];
  await streamCapture(path, events, (w) => warnings.push(w), { maxOpen });
  return { events, warnings };
}

const T = 1_700_000_000;
const flow = (i: number, port = 143) => new TcpFlow({ client: { ip: `10.0.${i >> 8}.${i & 255}`, port: 40000 + i }, server: { ip: '192.0.2.1', port }, start: T + i });

test('a SYN flood past the cap: the oldest go as new ones come, each closed then, ten warned of one by one, the rest counted', async () => {
  const syns = Array.from({ length: 15 }, (_, i) => flow(i).handshake()[0]!);
  const { events, warnings } = await run(syns, 2);
  const expected: string[] = ['open 0', 'open 1'];
  for (let i = 2; i < 15; i++) expected.push(`close ${i - 2} end-of-capture open`, `open ${i}`);
  expected.push('close 13 end-of-capture open', 'close 14 end-of-capture open');
  assert.deepEqual(events.log, expected, 'each goes as the one after the next opens; the last two at the end of the input');
  assert.equal(warnings.length, LET_GO_WARNED + 1);
  assert.match(warnings[0]!.message, /^more than 2 TCP conversations open at once \(the cap\): connection 0 \(its last segment was frame 1\), quiet for long, is let go here\. It ends as it would at the end of the capture, and a later segment of it would start a new conversation with a new id/);
  assert.deepEqual(warnings.slice(0, LET_GO_WARNED).map((w) => [w.frame, w.conn]), Array.from({ length: LET_GO_WARNED }, (_, i) => [i + 3, i]));
  assert.match(warnings[1]!.message, /^connection 1 \(its last segment was frame 2\), quiet for long, is let go here: more than 2 TCP conversations are open at once \(the cap\)$/);
  assert.deepEqual(warnings[LET_GO_WARNED], { frame: 15, message: '3 more TCP conversation(s) (3 of them IMAP connections) were let go the same way at the cap on open ones (2), the last in this frame' });
});

test('those that took segments get a second chance, SYN-only ones go first; one let go starts a new conversation with its next segment', async () => {
  const [a, b, c, d, e] = [flow(0), flow(1), flow(2, 8080), flow(3), flow(4)];
  const packets = [
    ...a.handshake(), ...a.send('server', '* OK ready\r\n'), // frames 1-5: a (0) took segments after its first
    b.handshake()[0]!, c.handshake()[0]!, // 6, 7: a SYN each; c (2) on no IMAP port
    d.handshake()[0]!, // 8: past the cap of 3: the hand passes a (a second chance) and lets b (1) go
    e.handshake()[0]!, // 9: the hand is at c, which never spoke after its SYN: c goes
    ...a.send('client', 'a1 NOOP\r\n'), // 10, 11
    ...b.send('client', 'b1 NOOP\r\n'), // 12, 13: b's next segment is a new conversation (5): a spoke again, d (3) goes
    ...a.send('server', 'a1 OK\r\n'),
  ];
  const { events, warnings } = await run(packets, 3);
  assert.deepEqual(events.log, [
    'open 0', 'data 0 server * OK ready', 'open 1',
    'close 1 end-of-capture open', 'open 3',
    'open 4',
    'data 0 client a1 NOOP',
    'close 3 end-of-capture open', 'open 5', 'data 5 client b1 NOOP',
    'data 0 server a1 OK',
    'close 0 end-of-capture open', 'close 4 end-of-capture open', 'close 5 end-of-capture open',
  ]);
  assert.deepEqual(events.conns.map((x) => [x.id, x.sawSyn, x.client.port]), [[0, true, 40000], [1, true, 40001], [3, true, 40003], [4, true, 40004], [5, false, 40001]]);
  assert.deepEqual(warnings.map((w) => [w.frame, w.conn, w.message.split(', quiet')[0]]), [
    [8, 1, 'more than 3 TCP conversations open at once (the cap): connection 1 (its last segment was frame 6)'],
    [9, undefined, 'TCP conversation 2'],
    [12, 3, 'connection 3 (its last segment was frame 8)'],
  ]);
  assert.ok(!('conn' in warnings[1]!), 'a conversation on no IMAP port belongs to no connection');
});

test('on a real recording (append-idle: one client idles while another appends), a cap of one changes nothing before the first let-go, and loses no frame', async () => {
  const path = join(CAPTURES, 'append-idle.pcap');
  const free = await analyze(path);
  const capped = await analyze(path, { limits: { maxOpenConversations: 1 } });
  assert.deepEqual(free.warnings, []);
  const first = capped.warnings[0]!;
  // Connection 1's SYN is the first conversation past the cap: connection 0, idling, goes there.
  const secondSyn = free.connections[1]!.conn.firstFrame;
  assert.deepEqual([first.frame, first.conn], [secondSyn, 0]);
  assert.match(first.message, new RegExp(`^more than 1 TCP conversations open at once \\(the cap\\): connection 0 \\(its last segment was frame ${secondSyn - 1}\\)`));
  const row = (e: (typeof free.exchanges)[number]) => [e.conn, e.tag, e.command, e.status, e.requestFrame, e.responseFrame, e.untagged];
  const before = (e: (typeof free.exchanges)[number]) => (e.responseFrame ?? Infinity) < secondSyn;
  assert.deepEqual(capped.exchanges.filter((e) => e.conn === 0 && before(e)).map(row), free.exchanges.filter((e) => e.conn === 0 && before(e)).map(row),
    'what connection 0 completed before it was let go is as without the cap');
  const idle = capped.exchanges.find((e) => e.conn === 0 && e.command === 'IDLE')!;
  assert.deepEqual([idle.status, idle.continuations], [null, 1], 'its IDLE, answered by "+" and not yet done, is reported unfinished');
  // Every frame is in exactly one record: the records, in order, tile the capture.
  const spans = capped.connections.map((c) => [c.conn.firstFrame, c.conn.lastFrame] as const);
  assert.equal(spans[0]![0], 1);
  for (let i = 1; i < spans.length; i++) assert.equal(spans[i]![0], spans[i - 1]![1] + 1, `connection ${i} starts right after ${i - 1} ends`);
  assert.equal(spans.at(-1)![1], free.connections.reduce((n, c) => Math.max(n, c.conn.lastFrame), 0));
  assert.equal(capped.warnings.filter((w) => /let go here/.test(w.message)).length, capped.connections.length - 2, 'each let-go warned of (the last two end with the input)');
  const logouts = capped.exchanges.filter((e) => e.command === 'LOGOUT').map((e) => [e.status, e.requestFrame]);
  assert.deepEqual(logouts, free.exchanges.filter((e) => e.command === 'LOGOUT').map((e) => [e.status, e.requestFrame]), 'both LOGOUTs are still found, in the conversations that followed');
});

test('the bin on a SYN flood larger than its heap: without the cap V8 ends it out of memory; with it, every connection is listed and the let-go ones warned of', async () => {
  const count = 60_000;
  await withScaleCapture('syn-flood', count, async (path) => {
    // The bin itself (its shebang's flags), with a 32 MiB heap: 60,000 open connections would need about 60 MiB.
    const r = spawnSync(CLI, ['summary', '--json', path], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=32' } });
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const summary = JSON.parse(r.stdout) as { connections: unknown[]; warnings: Warning[] };
    assert.equal(summary.connections.length, count);
    const [first] = summary.warnings;
    const cap = Number(/^more than ([\d,]+) TCP conversations open at once \(the cap, from the heap limit: NODE_OPTIONS=--max-old-space-size=<MiB> raises it\): connection 0 /.exec(first!.message)?.[1]?.replaceAll(',', ''));
    assert.ok(cap >= 1024 && cap < count / 4, `a cap from a 32 MiB heap (${cap})`);
    assert.deepEqual([first!.frame, first!.conn], [cap + 1, 0], 'the first let-go comes with the first SYN past the cap');
    assert.equal(summary.warnings.length, LET_GO_WARNED + 1);
    assert.equal(summary.warnings.at(-1)!.message, `${count - cap - LET_GO_WARNED} more TCP conversation(s) (${count - cap - LET_GO_WARNED} of them IMAP connections) were let go the same way at the cap on open ones (${cap.toLocaleString('en-US')}), the last in this frame`);
    assert.doesNotMatch(r.stderr, /FATAL|heap out of memory|at .*\.js:\d+/);
  });
});
