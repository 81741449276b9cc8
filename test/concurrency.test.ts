/** concurrency(): the sweep agrees with the quadratic definition, stays small when thousands overlap, and survives timestamps that run backwards. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concurrency, FEW_LIFETIMES, latestUntil, lifetimesOf, MAX_LISTED_OVERLAPS, mostOpenOfFew, openOverTime } from '../src/analysis/concurrency.js';
import type { Connection } from '../src/tcp/types.js';
import { fakeConnection } from './helpers/imap.js';
import { seededRandom } from './helpers/random.js';
import { CLI } from './helpers/env.js';
import { writeClockStepBackCapture } from './helpers/synth.js';

function conn(id: number, start: number, end: number): Connection {
  return { ...fakeConnection(), id, start: { sec: start, nsec: 0, digits: 6 }, end: { sec: end, nsec: 0, digits: 6 } };
}

test('overlap counts, listed ids and the peak equal the brute-force definition (random lifetimes, touching ends overlap)', () => {
  const random = seededRandom(11);
  for (let round = 0; round < 20; round++) {
    const conns = Array.from({ length: 150 + round * 10 }, (_, id) => {
      const start = Math.floor(random() * 1000);
      return conn(id, start, start + Math.floor(random() * (round % 2 ? 400 : 30)));
    });
    // In order of start (as connections open), against it (a clock stepping back), or in no order.
    if (round % 3 === 1) conns.sort((a, b) => a.start.sec - b.start.sec);
    if (round % 3 === 2) conns.sort((a, b) => b.start.sec - a.start.sec);
    const cc = concurrency(conns);
    let peak = 0;
    for (const c of conns) {
      const truth = conns.filter((o) => o !== c && o.start.sec <= c.end.sec && c.start.sec <= o.end.sec).map((o) => o.id);
      const o = cc.overlaps.find((x) => x.conn === c.id)!;
      assert.equal(o.count, truth.length, `conn ${c.id}: count`);
      assert.equal(o.with.length, Math.min(truth.length, MAX_LISTED_OVERLAPS), `conn ${c.id}: listed`);
      assert.ok(o.with.every((id) => truth.includes(id)), `conn ${c.id}: only overlapping ids listed`);
      peak = Math.max(peak, conns.filter((x) => x.start.sec <= c.start.sec && c.start.sec <= x.end.sec).length);
    }
    assert.equal(cc.max, peak);
  }
});

test('20,000 connections open at once: every count exact, lists capped', () => {
  const conns = Array.from({ length: 20_000 }, (_, id) => conn(id, id, 1_000_000));
  const cc = concurrency(conns);
  assert.equal(cc.max, 20_000);
  assert.ok(cc.overlaps.every((o) => o.count === 19_999 && o.with.length === MAX_LISTED_OVERLAPS));
});

test('the overlap table of real captures: every connection\'s count and listed ids (in order of id) as the definition gives them', async () => {
  const { readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { analyzeCapture } = await import('../src/analysis/analyzer.js');
  const { overlapTable } = await import('../src/analysis/concurrency.js');
  const { CAPTURES } = await import('./helpers/env.js');
  const { compareTime } = await import('../src/util/time.js');
  const conns: Connection[] = [];
  for (const name of readdirSync(CAPTURES).filter((n) => /\.pcap(ng)?$/.test(n)).sort()) {
    // Each capture's connections, shifted so that every capture lies over the others: many overlaps.
    const a = await analyzeCapture(join(CAPTURES, name));
    const t0 = a.capture.first!;
    const shift = (t: Connection['start']) => ({ ...t, sec: t.sec - t0.sec + 1_000 });
    for (const c of a.connections) conns.push({ ...c.conn, id: conns.length, start: shift(c.conn.start), end: shift(c.conn.end) });
  }
  assert.ok(conns.length >= 20, `${conns.length} connections`);
  const table = overlapTable(lifetimesOf(conns));
  let peak = 0;
  for (const [i, c] of conns.entries()) {
    const truth = conns.filter((o) => o !== c && compareTime(o.start, c.end) <= 0 && compareTime(c.start, o.end) <= 0).map((o) => o.id);
    const o = table.overlap(i);
    assert.equal(o.conn, c.id);
    assert.equal(o.count, truth.length, `conn ${c.id}: count`);
    assert.equal(o.with.length, Math.min(truth.length, MAX_LISTED_OVERLAPS), `conn ${c.id}: listed`);
    assert.ok(o.with.every((id) => truth.includes(id)), `conn ${c.id}: only overlapping ids listed`);
    assert.deepEqual(o.with, [...o.with].sort((x, y) => x - y), `conn ${c.id}: in order of id`);
    peak = Math.max(peak, conns.filter((x) => compareTime(x.start, c.start) <= 0 && compareTime(c.start, x.end) <= 0).length);
  }
  assert.ok(peak > 2, `the captures overlap (${peak} at once)`);
  assert.equal(table.max, peak);
  assert.deepEqual(concurrency(conns), { max: table.max, overlaps: conns.map((_, i) => table.overlap(i)) });
});

test('timestamps running backwards in a capture: a connection whose last frame is stamped before its first still counts as open over its start, and nothing wraps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-backwards-'));
  try {
    const path = join(dir, 'backwards.pcap');
    writeClockStepBackCapture(path);
    const r = spawnSync(process.execPath, [CLI, 'summary', '--json', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { connections: { id: number; start: string; end: string; durationMs: number }[]; concurrency: { max: number; overlaps: { count: number }[] } };
    assert.equal(j.connections.length, 2);
    // The record says what the capture says (its last frame's time), even before its start.
    assert.ok(j.connections[0]!.end < j.connections[0]!.start && j.connections[0]!.durationMs < 0);
    // It counts as open at its start only, so it ends before the second begins: no overlap, no wrapped count.
    assert.equal(j.concurrency.max, 1);
    assert.deepEqual(j.concurrency.overlaps.map((o) => o.count), [0, 0]);
    const text = spawnSync(process.execPath, [CLI, 'summary', path], { encoding: 'utf8' });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /at most 1 IMAP connection\(s\) open at once/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('latestUntil: the latest time any connection is open until, a clock stepping back counting the start', () => {
  const l = lifetimesOf([conn(1, 100, 200), conn(2, 150, 180), conn(3, 300, 120), conn(4, 50, 290)]);
  // Connection 3 ends (120) before it starts (300): it is open until 300, later than every end.
  assert.deepEqual(latestUntil(l), { sec: 300, nsec: 0, digits: 9 });
  assert.deepEqual(latestUntil(lifetimesOf([conn(1, 100, 200), conn(4, 50, 290), conn(2, 150, 180)])), { sec: 290, nsec: 0, digits: 9 });
});

test('mostOpenOfFew: the most open at once of a few lifetimes is the sweep\'s, ties, touching ends and ends before starts included', () => {
  const random = seededRandom(41);
  let overlapping = 0;
  for (let round = 0; round < 3000; round++) {
    const n = 1 + (round % FEW_LIFETIMES);
    // Few distinct instants, so that starts and ends often fall on one; now and then an end before its start.
    const at = () => ({ sec: 1_700_000_000 + Math.floor(random() * 4), nsec: Math.floor(random() * 3) * 500, digits: 6 });
    const lifetimes = Array.from({ length: n }, (_, id) => {
      const start = at();
      const end = random() < 0.15 ? at() : { ...start, sec: start.sec + Math.floor(random() * 3), nsec: random() < 0.5 ? start.nsec : 999 };
      return { id, lastFrame: id, start, end };
    });
    const expected = openOverTime(lifetimesOf(lifetimes)).max;
    const times = lifetimes.flatMap((l) => [l.start.sec, l.start.nsec, l.end.sec, l.end.nsec]);
    assert.equal(mostOpenOfFew(times), expected, JSON.stringify(lifetimes));
    if (expected > 1) overlapping++;
  }
  assert.ok(overlapping > 1000, `rounds where several were open at once: ${overlapping}`);
  assert.equal(mostOpenOfFew([]), 0);
});
