/**
 * A message fetched thousands of times: merged from runs, its sections go to a list on disk past `fetchesHeld`, and
 * every view writes it as that list is read — `fetches --json` and the text listing byte for byte as if it were held
 * whole, the HTML report with its first sections listed and the rest counted. Checked on the recordings with
 * `fetchesHeld` 1 (every message merged from pieces goes to disk), and end to end on a generated capture of one message
 * fetched 5,000 times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chalk from 'chalk';
import { analyzeWithFetches } from '../src/analysis/full.js';
import type { FetchStep, SectionFetch } from '../src/analysis/fetches.js';
import { parseSectionSpec } from '../src/imap/fetch.js';
import { MAX_FETCHES_HELD, MAX_RUNS_MERGED, MessageRuns, SpooledFetches } from '../src/analysis/fetch-runs.js';
import { messageView, type MessageView } from '../src/analysis/message-view.js';
import { FetchesJsonWriter, fetchesText, fetchesTextPieces, LONG_FETCHES, messageElements, messageJson } from '../src/report/fetches.js';
import { messageData } from '../src/report/html/model.js';
import { makeTable } from '../src/report/format.js';
import { setTableWidth } from '../src/report/table.js';
import { jsonText } from '../src/util/json.js';
import { TcpFlow, writeCapture, type SynthPacket } from './helpers/synth.js';
import { CAPTURES, CLI } from './helpers/env.js';

const RECORDED = ['mbsync.pcap', 'offlineimap.pcapng', 'fetchmail.pcap', 'curl.pcap', 'seed-alice.pcap', 'seed-bob.pcap', 'append-idle.pcap'].map((c) => join(CAPTURES, c));

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'imapscope-spool-test-'));
}

/** What a view makes of each merged message while it is read (a list on disk is valid until sorted() is done). */
async function merged<T>(capture: string, dir: string, fetchesHeld: number, view: (m: MessageView) => T): Promise<{ seen: T[]; spooled: number; steps: FetchStep[] }> {
  const tracker = (await analyzeWithFetches(capture, {}, { spill: { budget: 1, dir, fetchesHeld } })).fetches;
  const seen: T[] = [];
  let spooled = 0;
  for (const m of tracker.sorted()) {
    if (m.fetches instanceof SpooledFetches) spooled++;
    seen.push(view(m));
  }
  return { seen, spooled, steps: tracker.steps };
}

const expectedViews = async (capture: string) => (await analyzeWithFetches(capture)).fetches.list().map(messageView);

test('past fetchesHeld a merged message\'s sections are on disk, read back in order as memory holds them (recordings, 1 and 2 held)', async () => {
  const dir = scratch();
  try {
    let spooled = 0;
    for (const capture of RECORDED) {
      const expected = await expectedViews(capture);
      for (const held of [1, 2]) {
        // Walked twice, as the listings walk them: the second walk reads the file again.
        const got = await merged(capture, dir, held, (m) => {
          const once = [...m.fetches];
          assert.deepEqual([...m.fetches], once, 'a second walk reads the same sections');
          assert.equal(m.fetches.length, once.length);
          return { ...m, fetches: once };
        });
        assert.deepEqual(got.seen, expected, `${capture}, ${held} held`);
        spooled += got.spooled;
      }
    }
    assert.ok(spooled >= 10, `messages whose sections went to disk: ${spooled}`);
    assert.deepEqual(readdirSync(dir), [], 'every run directory, lists on disk included, removed once read');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `fetches --json`'s document as the command writes it: whole elements and pieces that continue the last one. */
function documentOf(messages: Iterable<MessageView>, rest: object): string {
  let text = '';
  const writer = new FetchesJsonWriter((t) => { text += t; });
  for (const piece of messageElements(messages, messageJson)) writer.messages(piece);
  for (const piece of writer.tail(rest)) text += piece;
  return text;
}

test('fetches --json with sections on disk, written as they are read, is byte for byte the document written whole', async () => {
  const dir = scratch();
  try {
    for (const capture of RECORDED) {
      const expected = await expectedViews(capture);
      const rest = { strategy: [], warnings: [] };
      const whole = `${jsonText({ messages: expected.map(messageJson), ...rest }, 2)}\n`;
      const tracker = (await analyzeWithFetches(capture, {}, { spill: { budget: 1, dir, fetchesHeld: 1 } })).fetches;
      assert.equal(documentOf(tracker.sorted(), rest), whole, capture);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the text listing with sections on disk, a table row per line, is the listing of tables held whole (plain and coloured, 60 columns and natural)', async () => {
  const dir = scratch();
  const level = chalk.level;
  try {
    for (const colour of [0, 1] as const) {
      for (const width of [null, 60]) {
        chalk.level = colour;
        setTableWidth(width);
        for (const capture of RECORDED) {
          const expected = await expectedViews(capture);
          const tracker = (await analyzeWithFetches(capture, {}, { spill: { budget: 1, dir, fetchesHeld: 1 } })).fetches;
          const steps = tracker.steps;
          assert.equal([...fetchesTextPieces(tracker.sorted(), steps)].join(''), fetchesText(expected, steps), `${capture}, colour ${colour}, width ${width}`);
        }
      }
    }
  } finally {
    chalk.level = level;
    setTableWidth(null);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message with more than LONG_FETCHES sections held in memory is written in pieces too, the same text and document', () => {
  const fetches = Array.from({ length: LONG_FETCHES + 5 }, (_, i): SectionFetch => ({
    conn: i % 3, tag: `t${i}`, command: 'UID FETCH', requestFrame: 2 * i, frame: 2 * i + 1, item: 'BODY', section: i % 2 ? 'HEADER' : '1',
    spec: parseSectionSpec(i % 2 ? 'HEADER' : '1'), origin: null, how: i % 2 ? 'header' : 'full', bytes: i, sha256: null, complete: true, part: i % 2 ? null : '1',
  }));
  const long: MessageView = {
    mailbox: 'INBOX', uidValidity: 1, uid: 9, seq: 1, envelope: null, size: null, internalDate: null, structureFrom: 'BODYSTRUCTURE', fetches,
    parts: [{ part: '1', type: 'text/plain', encoding: '7bit', size: 10, filename: null, charset: null, disposition: null, leaf: true, depth: 0, enclosed: false }],
  };
  const short: MessageView = { ...long, uid: 10, fetches: fetches.slice(0, 3) };
  const messages = [short, long, short];
  const rest = { strategy: [], warnings: [] };
  const pieces = [...messageElements(messages, messageJson)];
  assert.ok(pieces.filter((p) => p.continues).length >= 1, 'the long element in several pieces');
  assert.equal(documentOf(messages, rest), `${jsonText({ messages: messages.map(messageJson), ...rest }, 2)}\n`);
  // The listing held whole draws each message's table from one cell per part; the pieces draw a row per line.
  const text = [...fetchesTextPieces(messages, [])].join('');
  assert.equal(text, fetchesText(messages, [], Infinity));
  assert.equal(text.split('\n').filter((l) => / t\d+ /.test(l)).length, 2 * 3 + fetches.length, 'a line per section');
  // Each part's lines in the order fetched, the parts in tree order, then the sections that name no part.
  const tags = (t: string) => [...t.matchAll(/ (t\d+) /g)].map((m) => m[1]);
  assert.deepEqual(tags(fetchesText([short], [], Infinity)), ['t0', 't2', 't1']);
  assert.deepEqual(tags(fetchesText([long], [])), [...fetches.filter((_, i) => i % 2 === 0), ...fetches.filter((_, i) => i % 2 === 1)].map((f) => f.tag));
});

test('the report lists MAX_FETCHES_SHOWN sections of a message, the first ones, and counts the rest', async () => {
  for (const capture of RECORDED) {
    for (const m of await expectedViews(capture)) {
      const all = messageData(m, Infinity);
      const listed = (d: ReturnType<typeof messageData>) => [...d.fetches, ...d.parts.flatMap((p) => p.fetches)].map((f) => f.frame).sort((a, b) => a - b);
      assert.equal(all.fetchesOmitted, 0);
      assert.equal(listed(all).length, m.fetches.length);
      const one = messageData(m, 1);
      assert.equal(one.fetchesOmitted, m.fetches.length - Math.min(1, m.fetches.length), capture);
      assert.deepEqual(listed(one), [...m.fetches].slice(0, 1).map((f) => f.frame), `${capture}: the first section listed`);
      assert.deepEqual(one.parts.map((p) => p.notFetched), all.parts.map((p) => p.notFetched), 'what was not fetched is known from every section');
    }
  }
});

test('a table cell of 200,000 lines is measured and drawn (it is more lines than a call takes arguments)', () => {
  const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}`);
  const table = makeTable(['part', 'fetched']);
  table.push(['1', lines.join('\n')]);
  const drawn = table.toString().split('\n');
  assert.equal(drawn.length, 1 + 1 + 200_000 + 1, 'top rule, head, the lines, bottom rule');
  assert.ok(drawn.at(-2)!.includes('line 199999'));
});

/** One connection that selects INBOX and fetches UID 1's From header `count` times, 500 commands a flight. */
function refetched(count: number): SynthPacket[] {
  const f = new TcpFlow({ spacing: 1e-6 });
  const packets = [...f.handshake(), ...f.send('server', '* OK ready\r\n'), ...f.send('client', 's SELECT INBOX\r\n'),
    ...f.send('server', '* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\ns OK [READ-WRITE] done\r\n')];
  const header = 'From: a@b\r\n\r\n';
  for (let i = 0; i < count; i += 500) {
    let commands = '';
    let responses = '';
    for (let j = i; j < Math.min(count, i + 500); j++) {
      commands += `f${j} UID FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (FROM)])\r\n`;
      responses += `* 1 FETCH (UID 1 BODY[HEADER.FIELDS (FROM)] {${header.length}}\r\n${header})\r\nf${j} OK done\r\n`;
    }
    packets.push(...f.send('client', commands), ...f.send('server', responses));
  }
  packets.push(...f.close('fin', 'client'));
  return packets;
}

test(`one message fetched ${MAX_FETCHES_HELD + 904} times: fetches --json, the listing and the report, spilled and merged, list every section in order`, () => {
  const dir = scratch();
  try {
    const count = MAX_FETCHES_HELD + 904;
    const capture = join(dir, 'refetched.pcap');
    writeCapture(capture, { format: 'pcap', packets: refetched(count) });
    const tmp = join(dir, 'tmp');
    const run = (args: string[], budget: string) => {
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp);
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, FORCE_COLOR: '0', TMPDIR: tmp, IMAPSCOPE_FETCHES_BUDGET: budget } });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readdirSync(tmp), [], 'nothing left in the temporary directory');
      return r.stdout;
    };
    // A budget of 500 spills ten runs: the merge makes the message from their pieces, its sections on disk.
    const json = run(['fetches', '--json', capture], '500');
    const doc = JSON.parse(json) as { messages: { uid: number; fetches: { tag: string }[]; notFetched: string[] }[] };
    assert.equal(doc.messages.length, 1);
    assert.deepEqual(doc.messages[0]!.fetches.map((f) => f.tag), Array.from({ length: count }, (_, i) => `f${i}`));
    // Held in memory (a budget above the sections), the same document.
    assert.equal(run(['fetches', '--json', capture], '1000000'), json);
    const text = run(['fetches', capture], '500');
    const lines = text.split('\n');
    assert.deepEqual(lines.filter((l) => /header-fields/.test(l)).map((l) => /conn 0 (f\d+) /.exec(l)?.[1]), Array.from({ length: count }, (_, i) => `f${i}`));
    assert.equal(run(['fetches', capture], '1000000'), text);
    const report = join(dir, 'report.html');
    run(['report', capture, '-o', report], '500');
    const html = readFileSync(report, 'utf8');
    // Below MAX_FETCHES_SHOWN: every section listed (the cap itself: the test of messageData above).
    assert.match(html, /"fetchesOmitted":0\b/);
    assert.match(html, new RegExp(`"tag":"f${count - 1}"`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`runs merged in steps keep a message's pieces apart: no line of a run holds more than a spill held, and the final merge puts them in order`, async () => {
  const dir = scratch();
  try {
    const sample = (await expectedViews(join(CAPTURES, 'mbsync.pcap'))).find((m) => m.fetches.length > 0)!;
    const section = [...sample.fetches][0]!;
    const runs = new MessageRuns(dir, 8);
    const pieces = MAX_RUNS_MERGED + 2;
    for (let i = 0; i < pieces; i++) runs.spill([{ message: { ...sample, fetches: [{ ...section, frame: i }] } }]);
    const [runDir] = readdirSync(dir);
    const files = readdirSync(join(dir, runDir!));
    assert.ok(files.length < pieces, `the first ${MAX_RUNS_MERGED} runs merged into one (${files.length} files)`);
    for (const file of files) {
      for (const line of readFileSync(join(dir, runDir!, file), 'utf8').split('\n').filter(Boolean)) {
        assert.equal((JSON.parse(line) as unknown[][])[9]!.length, 1, `${file}: a piece per line`);
      }
    }
    const frames: number[] = [];
    let spooled = false;
    for (const m of runs.messages([])) {
      spooled ||= m.fetches instanceof SpooledFetches;
      for (const f of m.fetches) frames.push(f.frame);
    }
    assert.ok(spooled, 'more than 8 sections: on disk');
    assert.deepEqual(frames, Array.from({ length: pieces }, (_, i) => i), 'one message, its sections in the order of the runs');
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
