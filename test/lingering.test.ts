import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from '../src/capture/types.js';
import { LingeringConversations } from '../src/tcp/lingering.js';
import type { Connection } from '../src/tcp/types.js';
import { collectGarbage } from './helpers/gc.js';

/** What the ring must answer for a lingering conversation, kept as plain objects. */
interface Model {
  handle: number;
  id: number;
  keyA: number;
  keyB: number;
  seqA: number | null;
  seqB: number | null;
  late: { lastFrame: number; sec: number; nsec: number; digits: number } | null;
  record: Connection | null;
  endedSec: number;
  endedFrame: number;
  gone: boolean;
}

function frameAt(number: number, sec: number, nsec = 0, digits = 6): Frame {
  return { number, tsSec: sec, tsNsec: nsec, tsDigits: digits } as Frame;
}

function record(id: number, lastFrame: number, sec: number): Connection {
  return {
    id, client: { ip: '10.0.0.1', port: 40000 + id }, server: { ip: '10.0.0.2', port: 143 }, firstFrame: 1, lastFrame,
    start: { sec, nsec: 0, digits: 6 }, end: { sec, nsec: 500, digits: 6 }, sawSyn: true, state: 'closed',
    stats: { client: { bytes: 0, gaps: 0, gapBytes: 0 }, server: { bytes: 0, gaps: 0, gapBytes: 0 } },
  };
}

/** A small deterministic generator (xorshift32). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test('lingering conversations in their ring answer as plain records would, through growth and wrap-around (30,000 random steps)', () => {
  for (const seed of [1, 7, 42]) {
    const next = random(seed);
    const ring = new LingeringConversations();
    const models: Model[] = [];
    let frame = 0;
    let nextId = 0;
    const live = () => models.filter((m) => !m.gone);
    for (let step = 0; step < 30_000; step++) {
      frame++;
      const r = next();
      // More adds than removals early on, so that the ring grows past its first sizes; then as many of each.
      const adding = r < (step < 15_000 ? 0.5 : 0.34);
      if (adding) {
        const id = nextId++;
        const imap = next() < 0.7;
        const keepsLateChanges = next() < 0.5;
        const conn = imap ? record(id, frame, 1_700_000_000 + frame) : null;
        const firstSeqA = next() < 0.9 ? ((next() * 2 ** 32) | 0) : null;
        const firstSeqB = next() < 0.8 ? ((next() * 2 ** 32) | 0) : null;
        const handle = ring.add({ id, keyA: id * 65536 + 1234, keyB: 7 * 65536 + 143, firstSeqA, firstSeqB, record: conn, keepsLateChanges, frame: frameAt(frame, 1_700_000_000 + frame) });
        models.push({
          handle, id, keyA: id * 65536 + 1234, keyB: 7 * 65536 + 143, seqA: firstSeqA, seqB: firstSeqB,
          late: conn && keepsLateChanges ? { lastFrame: conn.lastFrame, sec: conn.end.sec, nsec: conn.end.nsec, digits: conn.end.digits } : null,
          record: conn, endedSec: 1_700_000_000 + frame, endedFrame: frame, gone: false,
        });
      } else if (r < 0.7 && live().length > 0) {
        // A late segment of one of them, from either side.
        const all = live();
        const m = all[Math.floor(next() * all.length)]!;
        const fromA = next() < 0.5;
        const seq = (next() * 2 ** 32) | 0;
        ring.noteFirstSeq(m.handle, fromA, seq);
        if (fromA) m.seqA ??= seq;
        else m.seqB ??= seq;
        const f = frameAt(frame, 1_700_000_000 + frame, Math.floor(next() * 1e6), 6);
        ring.late(m.handle, f);
        if (m.late) m.late = { lastFrame: f.number, sec: f.tsSec, nsec: f.tsNsec, digits: f.tsDigits };
        if (m.record) {
          assert.equal(m.record.lastFrame, f.number, 'a live record takes the late segment');
          assert.deepEqual(m.record.end, { sec: f.tsSec, nsec: f.tsNsec, digits: f.tsDigits });
        }
      } else if (r < 0.8 && live().length > 0) {
        // One leaves before its turn (a new SYN took its 4-tuple).
        const all = live();
        const m = all[Math.floor(next() * all.length)]!;
        ring.leave(m.handle);
        m.gone = true;
        m.record = null;
      } else if (models.length > 0) {
        // The oldest leaves when its time has come; those that left before their turn are passed over.
        const first = models.find((m) => !m.gone);
        const probe = (number: number, sec: number) => ring.oldestDue(frameAt(number, sec), 300, 0);
        const due = first ? probe(frame, first.endedSec + 301) : probe(frame, 0);
        while (models.length > 0 && models[0]!.gone) models.shift();
        if (!first) {
          assert.equal(due, -1);
          assert.equal(ring.size, 0);
          continue;
        }
        assert.equal(due, first.handle, 'the oldest still indexed is due');
        assert.equal(probe(frame, first.endedSec + 300), -1, 'not before its time');
        assert.equal(probe(first.endedFrame, first.endedSec + 301), -1, 'nor before its frames');
        assert.equal(probe(frame, first.endedSec - 301), due, 'time counts either way');
        assert.equal(ring.oldest(), due);
        ring.shift();
        models.shift();
      }
      assert.equal(ring.size, models.length);
      if (step % 97 === 0 || step > 29_900) {
        for (const m of models) {
          assert.equal(ring.gone(m.handle), m.gone);
          if (m.gone) continue;
          assert.equal(ring.id(m.handle), m.id);
          assert.equal(ring.keyA(m.handle), m.keyA);
          assert.equal(ring.keyB(m.handle), m.keyB);
          assert.equal(ring.firstSeq(m.handle, true), m.seqA);
          assert.equal(ring.firstSeq(m.handle, false), m.seqB);
          const late = ring.lateChanges(m.handle);
          assert.deepEqual(late, m.late && { id: m.id, lastFrame: m.late.lastFrame, end: { sec: m.late.sec, nsec: m.late.nsec, digits: m.late.digits } });
        }
      }
    }
    assert.ok(nextId > 8000, `enough added to grow the ring several times (${nextId})`);
  }
});

test('a lingering conversation holds its record only weakly: freed when nobody keeps it, and none after it leaves', async () => {
  const ring = new LingeringConversations();
  let kept: Connection | null = record(0, 5, 1_700_000_000);
  const held = ring.add({ id: 0, keyA: 1, keyB: 2, firstSeqA: 1, firstSeqB: 2, record: kept, keepsLateChanges: false, frame: frameAt(5, 1_700_000_000) });
  const dropped = ring.add({ id: 1, keyA: 3, keyB: 4, firstSeqA: 1, firstSeqB: 2, record: record(1, 6, 1_700_000_001), keepsLateChanges: true, frame: frameAt(6, 1_700_000_001) });
  const watch = new WeakRef(kept);
  ring.late(held, frameAt(9, 1_700_000_009, 42));
  assert.equal(kept.lastFrame, 9, 'the record someone keeps moves');
  assert.equal(ring.lateChanges(held), null, 'without keepsLateChanges nothing is kept of its end');
  ring.late(dropped, frameAt(10, 1_700_000_010, 7));
  assert.deepEqual(ring.lateChanges(dropped), { id: 1, lastFrame: 10, end: { sec: 1_700_000_010, nsec: 7, digits: 6 } }, 'kept as numbers whether or not its record lives');
  kept = null;
  await collectGarbage();
  assert.equal(watch.deref(), undefined, 'the ring keeps no record alive');
  ring.late(held, frameAt(11, 1_700_000_011));
  assert.equal(ring.id(held), 0);
});
