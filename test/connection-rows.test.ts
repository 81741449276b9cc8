/**
 * summary and streams write each connection's row to a temporary file once the connection's record is final, and keep
 * only its lifetime: memory no longer grows by a record per session. What they print must not change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLog } from '../src/tls/keylog.js';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { readRowPieces, readRows, RowFile, ROW_PIECE_BYTES, RowWriter } from '../src/analysis/connection-rows.js';
import { collectStreams } from '../src/analysis/streams.js';
import { selectedAnalysis, streamsOfCapture } from '../src/cli/selected-capture.js';
import { captureBehaviour } from '../src/compare/capture-behaviour.js';
import { lifetimeTime, rowTimes } from '../src/analysis/concurrency.js';
import { streamsJson, streamsJsonStreamed } from '../src/report/streams.js';
import { summaryJson, summaryJsonStreamed } from '../src/report/summary.js';
import { jsonPieces, jsonText } from '../src/util/json.js';
import { isoTime, secondsBetween } from '../src/util/time.js';
import { seconds } from '../src/report/format.js';
import { CAPTURES, CLI, hasPublic, NO_PUBLIC, PUBLIC, skipIfMissing } from './helpers/env.js';
import { seededInt } from './helpers/random.js';

const RECORDED = readdirSync(CAPTURES).filter((n) => /\.pcap(ng)?$/.test(n)).sort().map((n) => join(CAPTURES, n));

function withTemp<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-rows-test-'));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('RowWriter: rows written as connections end come back by id, only those kept, in any order asked, byte for byte', () => {
  withTemp((dir) => {
    const rand = seededInt(7);
    const ids = Array.from({ length: 3000 }, (_, i) => i);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = rand(i + 1);
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    // Characters of two, three and four UTF-8 bytes, and a row bigger than a read window.
    const text = (id: number) => `row ${id} ${'é✓😀'.repeat(id % 5)}${id === 1234 ? 'x'.repeat(40_000) : ''}`;
    const writer = new RowWriter(join(dir, 'rows'));
    // Some were still open when they closed (the end of the input closed them): final at their close.
    const final = (id: number) => id % 11 === 0;
    for (const id of ids) writer.add({ id, lastFrame: id, start: { sec: 1_000 + id, nsec: id, digits: 6 }, end: { sec: 1_000 + id + 1, nsec: 0, digits: 6 }, state: final(id) ? 'open' : 'closed' }, text(id));
    // Late segments moved some connections' last frame and end (one's clock stepped back before its start); the others
    // keep what they had at their close. A connection that never had a row is ignored, and so is what comes for a
    // final one (its retirement says what it said at its close: it is not looked up).
    const moved = (id: number) => id % 7 === 0 && !final(id);
    const late = (id: number) => ({ id, lastFrame: 10_000 + id, end: id === 14 ? { sec: 5, nsec: 1, digits: 9 } : { sec: 2_000 + id, nsec: 7, digits: 9 } });
    for (const id of ids) if (id % 7 === 0) writer.settle(late(id));
    writer.settle(late(99_999));
    const rows = writer.finish((id) => id % 3 !== 1);
    const kept = Array.from({ length: 3000 }, (_, id) => id).filter((id) => id % 3 !== 1);
    assert.deepEqual(Array.from(rows.lifetimes.ids), kept);
    assert.deepEqual(Array.from(rows.lifetimes.startSec), kept.map((id) => 1_000 + id));
    assert.deepEqual(Array.from(rows.lifetimes.startNsec), kept.map((id) => id));
    assert.deepEqual(kept.map((_, i) => rowTimes(rows.lifetimes, i)), kept.map((id) => ({
      lastFrame: moved(id) ? 10_000 + id : id, start: { sec: 1_000 + id, nsec: id, digits: 6 }, end: moved(id) ? late(id).end : { sec: 1_000 + id + 1, nsec: 0, digits: 6 },
    })));
    const i14 = kept.indexOf(14);
    const until = (i: number) => lifetimeTime(rows.lifetimes, i, true);
    assert.deepEqual([until(i14).sec, until(i14).nsec], [1_014, 14], 'an end before the start: open until the start');
    assert.deepEqual(kept.flatMap((id, i) => (id === 14 ? [] : [until(i).sec])), kept.filter((id) => id !== 14).map((id) => (moved(id) ? 2_000 : 1_001) + id));
    assert.deepEqual([...readRows(rows)], kept.map(text));
    const shuffled = kept.map((_, i) => i).sort(() => rand(3) - 1);
    assert.deepEqual([...readRows(rows, shuffled)], shuffled.map((i) => text(kept[i]!)));
    assert.deepEqual([...readRows(rows, kept.map((_, i) => kept.length - 1 - i))], [...kept].reverse().map(text));
    assert.throws(() => new RowWriter(join(dir, 'rows')), /EEXIST/, 'an existing file is never written over');
    writer.remove();
    assert.deepEqual(readdirSync(dir), [], 'remove() takes the rows and their lifetimes');
    new RowWriter(join(dir, 'rows')).remove();
  });
});

test('summary\'s analysis and the streams with their rows spilled hold no record, and their rows are the views\' rows of every connection', async () => {
  await withTempAsync(async (dir) => {
    for (const [n, path] of RECORDED.entries()) {
      const held = await analyzeCapture(path);
      const settings = { ports: [143, 993], keySecrets: new KeyLog().secrets };
      const spilled = await selectedAnalysis({ path, settings, filter: undefined, keepSelected: false, spill: { file: join(dir, `rows-${n}`), kind: { json: true } } });
      assert.equal(spilled.analysis.connections.length, 0, `${path}: no record held`);
      assert.ok(spilled.rows, `${path}: rows were spilled`);
      const rows = (JSON.parse([...jsonPieces(summaryJsonStreamed([spilled.analysis], [spilled.rows]), 2)].join('')) as { connections: unknown[] }).connections;
      assert.ok(rows.length > 0);
      assert.deepEqual(rows, (summaryJson([held]) as { connections: unknown[] }).connections, path);
      const streams = await streamsOfCapture({ path, settings, filter: undefined, keepSelected: false, spill: { file: join(dir, `streams-${n}`), kind: { json: true } } });
      assert.equal(streams.streams.connections.length, 0, `${path}: no TCP record held`);
      assert.ok(streams.rows);
      const plain = JSON.parse(jsonText(streamsJson([await collectStreams(path, { ports: settings.ports })]))) as { connections: unknown[] };
      const streamed = JSON.parse([...jsonPieces(streamsJsonStreamed([streams.streams], [streams.rows]), 2)].join('')) as { connections: unknown[] };
      assert.deepEqual(streamed.connections, plain.connections, path);
    }
  });
});

async function withTempAsync(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-rows-test-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The view with TMPDIR set: a directory to spill to, or one that does not exist (every record held). */
function view(name: string, args: string[], tmp: string, color = false) {
  return spawnSync(process.execPath, [CLI, name, ...args], {
    encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, FORCE_COLOR: color ? '1' : '0', TMPDIR: tmp },
  });
}

const HELD_NOTE = /^imapscope: warning: no temporary directory to write connection rows to \(.*no-such-dir: ENOENT\); every connection's record is held in memory \(set TMPDIR to a writable directory\)\n/;

/** Each case runs twice; `single` captures are also shown one by one (rows that name no capture). */
function spilledEqualsHeld(name: 'summary' | 'streams', captures: string[], single: string[]): void {
  withTemp((tmp) => {
    const missing = join(tmp, 'no-such-dir');
    const cases: [string[], boolean][] = [
      ...single.flatMap((c): [string[], boolean][] => [[['--json', c], false], [[c], false]]),
      [['--json', ...captures], false], // several captures: each row names its capture
      [[...captures], true], // colour inside the cells
      // Kept after the capture, by its exchanges (streams filters connections only).
      ...(name === 'summary' ? [[['--json', '-Y', 'imap.command == "FETCH"', ...captures], false] as [string[], boolean]] : []),
      [['-Y', 'imap.user == "alice" || tls', ...captures], false], // kept or not as each connection ends
      [['--jobs', '2', ...captures], false], // rows written in worker threads
    ];
    for (const [args, color] of cases) {
      const spilled = view(name, args, tmp, color);
      const held = view(name, args, missing, color);
      const what = `${name} ${args.join(' ')}`;
      assert.equal(spilled.status, 0, `${what}: ${spilled.stderr}`);
      assert.equal(held.status, 0, `${what}: ${held.stderr}`);
      assert.ok(spilled.stdout.length > 0);
      assert.equal(spilled.stdout, held.stdout, what);
      assert.match(held.stderr, HELD_NOTE, what);
      assert.equal(held.stderr.replace(HELD_NOTE, ''), spilled.stderr, `${what}: the same warnings`);
      assert.deepEqual(readdirSync(tmp), [], `${what}: nothing left in the temporary directory`);
    }
  });
}

for (const name of ['summary', 'streams'] as const) {
  test(`${name} with its rows spilled prints what it prints with every record held (recorded captures: text, JSON, filters, several captures, workers)`, () => {
    spilledEqualsHeld(name, RECORDED, RECORDED.filter((c) => /offlineimap|imaps-tls13/.test(c)));
  });

  test(`${name} with its rows spilled prints what it prints with every record held (public captures, clocks that step back)`, (t) => {
    if (skipIfMissing(t, !hasPublic && NO_PUBLIC)) return;
    const captures = readdirSync(PUBLIC).filter((n) => /\.(pcap(ng)?|cap)$/.test(n)).sort().map((n) => join(PUBLIC, n));
    spilledEqualsHeld(name, captures, captures.filter((c) => /arkime_synthetic|lekensteyn/.test(c)));
  });
}

test('statistics: false (commands, fetches, extract) gathers no per-command latencies or turns, and the exchanges are the same', async () => {
  const path = join(CAPTURES, 'append-idle.pcap');
  const seen = (statistics: boolean) => {
    const tags: string[] = [];
    return { tags, run: analyzeCapture(path, { statistics, onExchange: (ex) => tags.push(`${ex.conn} ${ex.tag} ${ex.status}`) }) };
  };
  const on = seen(true);
  const off = seen(false);
  const [withStats, without] = [await on.run, await off.run];
  assert.ok(withStats.commandStats.summaries().length > 0 && withStats.turnStats.idle().count > 0);
  assert.deepEqual(without.commandStats.summaries(), []);
  assert.equal(without.turnStats.idle().count, 0);
  assert.ok(on.tags.length > 0);
  assert.deepEqual(off.tags, on.tags);
});

test('summary and streams read from a pipe have their rows and lifetimes files open in a private directory of TMPDIR while they read; it is gone after', { timeout: 60_000 }, async () => {
  const capture = readFileSync(join(CAPTURES, 'offlineimap.pcapng'));
  for (const [name, args] of [['summary', ['--json']], ['summary', []], ['streams', []]] as const) {
    await withTempAsync(async (tmp) => {
      const child = spawn(process.execPath, [CLI, name, ...args, '-'], { env: { ...process.env, FORCE_COLOR: '0', TMPDIR: tmp } });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      let seen: string[];
      try {
        child.stdin.write(capture);
        // The input is not ended: the view waits for more, with its rows file made.
        const rowsFile = () => readdirSync(tmp).flatMap((d) => readdirSync(join(tmp, d)).map((f) => `${d.replace(/-[^-]*$/, '-*')}/${f}`));
        const deadline = Date.now() + 10_000;
        while ((seen = rowsFile()).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        child.stdin.end();
      }
      assert.equal(await closed, 0);
      assert.deepEqual([...seen].sort(), ['imapscope-spill-*/rows-0', 'imapscope-spill-*/rows-0-lifetimes'], `${name} ${args.join(' ')}: the rows and their lifetimes`);
      assert.deepEqual(readdirSync(tmp), [], 'the directory is removed');
      const held = spawnSync(process.execPath, [CLI, name, ...args, '-'], { input: capture, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', TMPDIR: join(tmp, 'no-such-dir') } });
      assert.match(held.stderr, HELD_NOTE);
      assert.ok(stdout.length > 0);
      assert.equal(stdout, held.stdout, 'the same output as with every record held');
    });
  }
});

test('the rows show each record\'s own last frame, end and duration, completed after the close as they are read', async () => {
  const publicCaptures = hasPublic ? readdirSync(PUBLIC).filter((n) => /\.(pcap|pcapng|cap)$/.test(n)).map((n) => join(PUBLIC, n)) : [];
  const lastFrameMoved: number[] = [];
  await withTempAsync(async (tmp) => {
    for (const path of [...RECORDED, ...publicCaptures]) {
      // The records as the tracker left them (held to the end, the last ACKs moved them): the oracle for the rows.
      const atClose = new Map<number, number>();
      const records = new Map((await analyzeCapture(path, { onConnectionClose: (c) => atClose.set(c.conn.id, c.conn.lastFrame) })).connections.map((c) => [c.conn.id, c.conn] as const));
      const json = (name: string) => (JSON.parse(view(name, ['--json', path], tmp).stdout) as { connections: { id: number; firstFrame: number; lastFrame: number; start: string; end: string; durationMs?: number }[] }).connections;
      for (const name of ['summary', 'streams']) {
        const rows = json(name);
        assert.deepEqual(rows.map((r) => r.id), [...records.keys()], `${path}: ${name} has a row per connection`);
        for (const r of rows) {
          const c = records.get(r.id)!;
          assert.deepEqual([r.firstFrame, r.lastFrame, r.start, r.end], [c.firstFrame, c.lastFrame, isoTime(c.start), isoTime(c.end)], `${path}: ${name} row ${r.id}`);
          if (name === 'summary') assert.equal(r.durationMs, Math.round(secondsBetween(c.start, c.end) * 1e6) / 1e3, `${path}: summary row ${r.id}'s duration`);
        }
      }
      const text = view('streams', [path], tmp).stdout;
      for (const c of records.values()) {
        assert.ok(text.includes(`${c.firstFrame}–${c.lastFrame}`), `${path}: streams shows connection ${c.id}'s frames ${c.firstFrame}–${c.lastFrame}`);
        assert.ok(text.includes(seconds(secondsBetween(c.start, c.end))), `${path}: streams shows connection ${c.id}'s duration`);
      }
      lastFrameMoved.push(...[...records.values()].filter((c) => c.lastFrame !== atClose.get(c.id)).map((c) => c.id));
    }
  });
  assert.ok(lastFrameMoved.length > 10, `connections whose last frame moved after their close were among those checked (${lastFrameMoved.length})`);
});

test('a capture that cannot be read leaves no file open: summary, streams and compare close what they had begun', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-unreadable-'));
  try {
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    const path = join(dir, 'no-such.pcap');
    const settings = { ports: [143, 993], keySecrets: new KeyLog().secrets };
    const spill = (n: string) => ({ file: join(dir, n), kind: { json: true } as const });
    await assert.rejects(selectedAnalysis({ path, settings, filter: undefined, keepSelected: false, spill: spill('summary') }));
    await assert.rejects(streamsOfCapture({ path, settings, filter: undefined, keepSelected: false, spill: spill('streams') }));
    await assert.rejects(streamsOfCapture({ path, settings, filter: 'imap.user', keepSelected: false, spill: spill('streams-filtered') }));
    await assert.rejects(captureBehaviour(path, {}, 'capture', join(dir, 'behaviour')));
    assert.equal(open(), before);
    // compare's spool is removed; the rows' files stay for the caller, who removes the directory.
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('behaviour')), readdirSync(dir).join(' '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RowFile: rows whole or in pieces, short or longer than a write, are read back as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-rowfile-'));
  try {
    const file = new RowFile(join(dir, 'rows'));
    const rows: (string | string[])[] = [];
    for (let i = 0; i < 40; i++) {
      const long = 'é'.repeat(i % 7 === 3 ? 70_000 : 10 + i);
      rows.push(i % 3 === 0 ? [`{"n":${i},`, `"text":"${long}"`, '}'] : i % 3 === 1 ? [`{"n":${i},"text":"${long}"}`] : `{"n":${i},"text":"${long}"}`);
    }
    rows.forEach((row) => file.add(row));
    const places = file.finish();
    const texts = rows.map((row) => (typeof row === 'string' ? row : row.join('')));
    assert.deepEqual([...readRows(places)], texts);
    // Long rows in pieces of at most ROW_PIECE_BYTES bytes, a two-byte character cut between two reads kept whole.
    const pieces = [...readRowPieces(places)];
    assert.deepEqual(pieces.map((p) => (typeof p === 'string' ? p : p.join(''))), texts);
    assert.ok(pieces.every((p, i) => (typeof p === 'string') === (Buffer.byteLength(texts[i]!) <= ROW_PIECE_BYTES)));
    assert.ok(pieces.flat().every((p) => Buffer.byteLength(p) <= ROW_PIECE_BYTES));
    assert.ok(pieces.some((p) => typeof p !== 'string' && p.length > 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
