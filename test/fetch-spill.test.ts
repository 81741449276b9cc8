/**
 * `fetches --json` with bounded memory: the tracker writes what it holds as sorted runs once it holds more
 * than its budget, and sorted() merges them, combining the pieces of a message fetched before and after a
 * spill. Checked against the in-memory list on real captures, with budgets small enough that every few
 * responses spill; and the runs' private directory is gone afterwards, also after an error or Ctrl-C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture } from '../bench/gen-capture.js';
import { KeyLog } from '../src/tls/keylog.js';
import { analyzeWithFetches } from '../src/analysis/full.js';
import { FetchTracker, type FetchedMessage, type FetchStep } from '../src/analysis/fetches.js';
import { readSteps, StepFile } from '../src/cli/step-file.js';
import { fetchesOfCapture } from '../src/cli/fetches-capture.js';
import { MAX_CODED_TEXTS, MAX_RUNS_MERGED, MessageRuns, RecordCodec, SECTIONS_PER_LINE } from '../src/analysis/fetch-runs.js';
import { messageView, type MessageView } from '../src/analysis/message-view.js';
import { fetchesText, fetchesTextPieces, messageJson, MESSAGES_PER_PIECE, PIECE_CHARS } from '../src/report/fetches.js';
import { jsonText } from '../src/util/json.js';
import { feedTracker } from './helpers/imap.js';
import { collectGarbage } from './helpers/gc.js';
import { CAPTURES, CLI, hasPublic, NO_PUBLIC, publicCapture, unavailable } from './helpers/env.js';

/** The CLI in a child process with extra environment variables. */
function runCli(args: string[], options: { env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, FORCE_COLOR: '0', ...options.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Captures whose messages are fetched in several responses (headers, then bodies; again by other connections). */
const RECORDED = ['mbsync.pcap', 'offlineimap.pcapng', 'fetchmail.pcap', 'curl.pcap', 'seed-alice.pcap', 'seed-bob.pcap', 'append-idle.pcap'].map((c) => join(CAPTURES, c));
const PUBLIC = ['protolens-imap_fetch.pcap', 'protolens-imap.pcap', 'arkime-imap.pcap', 'ndpi-imap.pcap', 'chrissanders-mail_receiver_server_3.pcapng'];

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'imapscope-spill-test-'));
}

async function inMemory(capture: string): Promise<FetchedMessage[]> {
  return (await analyzeWithFetches(capture)).fetches.list();
}

/** The in-memory messages as `fetches --json` shows them: what the merged runs must equal. */
const views = (messages: FetchedMessage[]) => messages.map(messageView);

/** The messages as the spilling tracker lists them, and how many runs it wrote. */
async function spilled(capture: string, budget: number, dir: string, live?: number, lineBytes?: number): Promise<{ messages: MessageView[]; runs: number }> {
  const tracker = (await analyzeWithFetches(capture, {}, { spill: { budget, dir, live, lineBytes } })).fetches;
  const runs = tracker.spilledRuns;
  return { messages: [...tracker.sorted()], runs };
}

/** How many messages the capture has whose sections came in more than one FETCH response. */
function fetchedRepeatedly(messages: FetchedMessage[]): number {
  return messages.filter((m) => new Set(m.fetches.map((f) => f.frame)).size > 1).length;
}

test('spilled and merged: every message equals the in-memory one, in the same order (recorded captures, budgets 1, 3, 40)', async () => {
  const dir = scratch();
  try {
    let combined = 0;
    for (const capture of RECORDED) {
      const expected = await inMemory(capture);
      combined += fetchedRepeatedly(expected);
      for (const budget of [1, 3, 40]) {
        const { messages, runs } = await spilled(capture, budget, dir);
        if (expected.length > 0 && budget === 1) assert.ok(runs >= 2, `${capture}: several runs at budget 1 (${runs})`);
        assert.deepEqual(messages, views(expected), `${capture} at budget ${budget}`);
        assert.deepEqual(messages.map((m) => jsonText(messageJson(m))), views(expected).map((m) => jsonText(messageJson(m))), `${capture} JSON at budget ${budget}`);
      }
      // Never spilled, but every message except the latest held as its run line (and continued when met again).
      const compacted = await spilled(capture, 1e9, dir, 1);
      assert.equal(compacted.runs, 0);
      assert.deepEqual(compacted.messages, views(expected), `${capture} held as run lines`);
      // Within the budget of records, but over the bytes held lines may take: spilled all the same.
      const heavy = await spilled(capture, 1e9, dir, 1, 1);
      if (expected.length > 1) assert.ok(heavy.runs >= 1, `${capture}: spilled by the bytes of its lines (${heavy.runs} runs)`);
      assert.deepEqual(heavy.messages, views(expected), `${capture} spilled by bytes`);
    }
    // The merge had pieces to combine: messages fetched in several responses, split by spills at budget 1.
    assert.ok(combined >= 10, `messages fetched in several responses: ${combined}`);
    assert.deepEqual(readdirSync(dir), [], 'every run directory removed once its messages were read');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the text listing, written in pieces of many messages, is every table one line break apart, then the strategy', async () => {
  const views: MessageView[] = [];
  const steps = [];
  for (const capture of RECORDED) {
    const { fetches } = await analyzeWithFetches(capture);
    views.push(...fetches.sorted());
    steps.push(...fetches.steps);
  }
  assert.ok(views.length > 0 && steps.length > 0);
  // A message's table alone: the listing of it and no FETCH command, less its last line break.
  const table = (v: MessageView) => fetchesText([v], []).slice(0, -1);
  const strategy = fetchesText([], steps);
  for (const count of [0, 1, 63, 64, 65, 129, 200]) {
    const some = Array.from({ length: count }, (_, i) => views[i % views.length]!);
    const tables = some.map(table).join('\n');
    assert.equal(fetchesText(some, steps), count === 0 ? strategy : `${tables}\n${strategy}`, `${count} messages`);
    assert.equal(fetchesText(some, []), `${tables}\n`, `${count} messages, no strategy`);
  }
});

test('the text listing\'s pieces: MESSAGES_PER_PIECE messages each, fewer when their tables are long (a piece is never many long tables)', () => {
  const message = (uid: number, parts: number): MessageView => ({
    mailbox: 'INBOX', uidValidity: 1, uid, seq: uid, envelope: null, size: null, internalDate: null, structureFrom: 'BODYSTRUCTURE', fetches: [],
    parts: Array.from({ length: parts }, (_, i) => ({ part: `${i + 1}`, type: 'text/plain', encoding: '7bit', size: 10, filename: `f${i}.txt`, charset: null, disposition: null, leaf: true, depth: 1, enclosed: false })),
  });
  const lengths = (messages: MessageView[]) => [...fetchesTextPieces(messages, [])].slice(0, -1).map((p) => p.length);
  const short = Array.from({ length: 2 * MESSAGES_PER_PIECE + 5 }, (_, i) => message(i + 1, 1));
  assert.equal(lengths(short).length, 3, 'short tables: as many messages a piece as allowed');
  const long = Array.from({ length: 6 }, (_, i) => message(i + 1, 3000));
  const longTable = fetchesText([long[0]!], []).length;
  assert.ok(longTable > PIECE_CHARS / 2, `a long table (${longTable} characters)`);
  for (const length of lengths(long)) assert.ok(length < PIECE_CHARS + longTable + 1, `a piece of ${length} characters`);
  assert.ok(lengths(long).length >= 3, 'long tables: a few messages a piece');
});

test('spilled and merged equals in-memory on the public captures', { skip: unavailable(!hasPublic && NO_PUBLIC) }, async () => {
  const dir = scratch();
  try {
    for (const name of PUBLIC) {
      const expected = await inMemory(publicCapture(name));
      const { messages } = await spilled(publicCapture(name), 1, dir);
      assert.deepEqual(messages, views(expected), name);
    }
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a mailbox that holds nothing and no open connection has selected is forgotten at a spill (and never kept streaming); selected again, its pieces still combine', async () => {
  const dir = scratch();
  try {
    // A folder sync of many accounts: each session selects its own INBOX (its own UIDVALIDITY).
    const capture = join(dir, 'accounts.pcap');
    await generateCapture({ out: capture, mb: 2, mix: 'sync', seed: 7 });
    const expected = await inMemory(capture);
    const mailboxes = new Set(expected.map((m) => `${m.mailbox}\0${m.uidValidity}`)).size;
    assert.ok(mailboxes > 50, `mailboxes: ${mailboxes}`);
    const tracker = (await analyzeWithFetches(capture, {}, { spill: { budget: 4, dir } })).fetches;
    assert.ok(tracker.knownMailboxes <= 2, `mailboxes still known after the pass: ${tracker.knownMailboxes} of ${mailboxes}`);
    assert.deepEqual([...tracker.sorted()], views(expected));
    assert.equal(tracker.knownMailboxes, 0, 'none once everything held went to the merge');
    // Streaming, as compare and fetches --ndjson read it, no mailbox is kept at all.
    let steps = 0;
    const streamed = (await analyzeWithFetches(capture, {}, { retain: false, steps: true, onStep: () => steps++ })).fetches;
    assert.equal(streamed.knownMailboxes, 0);
    assert.ok(steps > 50, `steps: ${steps}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`more than ${MAX_RUNS_MERGED} runs are merged in steps, with the same result (a generated folder sync)`, async () => {
  const dir = scratch();
  try {
    const capture = join(dir, 'sync.pcap');
    await generateCapture({ out: capture, mb: 0.5, mix: 'sync', seed: 7 });
    const expected = await inMemory(capture);
    const { messages, runs } = await spilled(capture, 4, dir);
    assert.ok(expected.length > 500, `messages: ${expected.length}`);
    assert.ok(runs > MAX_RUNS_MERGED, `runs written: ${runs}`);
    assert.deepEqual(messages, views(expected));
    assert.deepEqual(readdirSync(dir), ['sync.pcap']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the run directory exists while runs wait, and is removed when reading stops early or by dispose()', async () => {
  const dir = scratch();
  try {
    const capture = join(CAPTURES, 'mbsync.pcap');
    const runDirs = () => readdirSync(dir);
    const a = (await analyzeWithFetches(capture, {}, { spill: { budget: 2, dir } })).fetches;
    assert.equal(runDirs().length, 1, 'one private directory while the runs wait');
    assert.ok(readdirSync(join(dir, runDirs()[0]!)).some((f) => f.startsWith('run-')), 'with the runs in it');
    assert.throws(() => {
      for (const _ of a.sorted()) throw new Error('the consumer failed');
    }, /the consumer failed/);
    assert.deepEqual(runDirs(), [], 'removed when the consumer stopped with an error');

    const b = (await analyzeWithFetches(capture, {}, { spill: { budget: 2, dir } })).fetches;
    assert.equal(runDirs().length, 1);
    b.dispose();
    assert.deepEqual(runDirs(), [], 'removed by dispose() without reading');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fetches and fetches --json with a budget of 2 print the same listing and document, and leave nothing in the temporary directory', () => {
  const tmp = scratch();
  try {
    for (const capture of [join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'fetchmail.pcap')]) {
      for (const view of [['--json'], []]) {
        const plain = runCli(['fetches', ...view, capture]);
        const small = runCli(['fetches', ...view, capture], { env: { IMAPSCOPE_FETCHES_BUDGET: '2', TMPDIR: tmp } });
        assert.equal(plain.code, 0, plain.stderr);
        assert.equal(small.code, 0, small.stderr);
        assert.equal(small.stdout, plain.stdout, `${capture} ${view}`);
        assert.equal(small.stderr, plain.stderr);
        if (view.length > 0) assert.ok(JSON.parse(small.stdout).messages.length > 0);
        else assert.match(small.stdout, /^INBOX (uid \d+|seq \d+ \(UID unknown\)) · /m);
      }
    }
    assert.deepEqual(readdirSync(tmp), []);
    const bad = runCli(['fetches', '--json', join(CAPTURES, 'mbsync.pcap')], { env: { IMAPSCOPE_FETCHES_BUDGET: 'lots', TMPDIR: tmp } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^imapscope: IMAPSCOPE_FETCHES_BUDGET must be a positive whole number, got 'lots'\n$/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('without a writable temporary directory the listings say so in one line and hold every message in memory (same output, exit 0)', () => {
  const missing = join(tmpdir(), 'imapscope-no-such-dir', 'deeper');
  const capture = join(CAPTURES, 'mbsync.pcap');
  for (const view of [['--json'], []]) {
    const plain = runCli(['fetches', ...view, capture]);
    const without = runCli(['fetches', ...view, capture], { env: { IMAPSCOPE_FETCHES_BUDGET: '2', TMPDIR: missing } });
    assert.equal(without.code, 0, without.stderr);
    assert.equal(without.stdout, plain.stdout);
    assert.match(without.stderr, /^imapscope: warning: no temporary directory to sort fetched messages through \(.*imapscope-no-such-dir.*: ENOENT\); every message is held in memory \(set TMPDIR to a writable directory\)\n$/);
  }
  // The report holds its connections' rows too (three here), and makes the same page.
  const out = mkdtempSync(join(tmpdir(), 'imapscope-report-held-'));
  const three = join(CAPTURES, 'seed-alice.pcap');
  try {
    const plain = runCli(['report', three, '-o', join(out, 'plain.html')]);
    const without = runCli(['report', three, '-o', join(out, 'held.html')], { env: { IMAPSCOPE_FETCHES_BUDGET: '2', TMPDIR: missing } });
    assert.equal(without.code, 0, without.stderr);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(readFileSync(join(out, 'held.html')).equals(readFileSync(join(out, 'plain.html'))), 'the same page');
    assert.match(without.stderr, /^imapscope: warning: no temporary directory to sort fetched messages and write connection rows through \(.*ENOENT\); every message and connection row is held in memory/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/**
 * Feed a whole capture on stdin without ending it, so that the CLI waits for more with runs on disk; once a
 * run is there, press Ctrl-C (`times` times).
 */
async function interruptWithRuns(capture: string, tmp: string, times: number, view = ['--json']) {
  const child = spawn(process.execPath, [CLI, 'fetches', ...view, '-'], { env: { ...process.env, FORCE_COLOR: '0', IMAPSCOPE_FETCHES_BUDGET: '1', TMPDIR: tmp } });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdin.write(readFileSync(capture));
  const hasRun = () => {
    try {
      return readdirSync(tmp).some((d) => readdirSync(join(tmp, d)).some((r) => readdirSync(join(tmp, d, r)).length > 0));
    } catch {
      return false; // removed while we looked
    }
  };
  while (!hasRun()) await new Promise((resolve) => setTimeout(resolve, 20));
  for (let i = 0; i < times; i++) child.kill('SIGINT');
  const code = await closed;
  child.stdin.destroy();
  return { code, stdout, stderr };
}

test('Ctrl-C with runs on disk: the partial document is written from them and the directory is removed; a second Ctrl-C removes it too', { timeout: 60_000 }, async () => {
  const tmp = scratch();
  try {
    const capture = join(CAPTURES, 'mbsync.pcap');
    const once = await interruptWithRuns(capture, tmp, 1);
    assert.equal(once.code, 130, once.stderr);
    const doc = JSON.parse(once.stdout);
    assert.equal(doc.partial, true);
    assert.ok(doc.messages.length >= 1, 'the messages read before Ctrl-C, from the runs');
    assert.deepEqual(readdirSync(tmp), [], 'nothing left after one Ctrl-C');

    const twice = await interruptWithRuns(capture, tmp, 2);
    assert.equal(twice.code, 130, twice.stderr);
    assert.deepEqual(readdirSync(tmp), [], 'nothing left after leaving at once');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the text listing spills too: runs on disk while reading, the messages read listed after Ctrl-C, nothing left', { timeout: 60_000 }, async () => {
  const tmp = scratch();
  try {
    const once = await interruptWithRuns(join(CAPTURES, 'mbsync.pcap'), tmp, 1, []);
    assert.equal(once.code, 130, once.stderr);
    assert.match(once.stdout, /^INBOX uid \d+/m, 'the messages read before Ctrl-C, from the runs');
    assert.deepEqual(readdirSync(tmp), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ how pieces combine, on scripted sessions

const TEXT_TREE = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1)';
const MIXED_TREE = '(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 4 1)("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 8 NIL) "mixed" ("boundary" "b1") NIL NIL)';
const RAW = 'From: Ann <ann@example.org>\r\nSubject: whole\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nhi\r\n--q\r\nContent-Type: image/png\r\n\r\nxx\r\n--q--\r\n';

type Script = ['client' | 'server', string][];

/** A session that selects INBOX (with UIDVALIDITY 7, or none) and sends each FETCH with its responses. */
function session(validity: number | null, fetches: [string, string][]): Script {
  return [
    ['client', 'a1 SELECT INBOX\r\n'],
    ['server', `${validity === null ? '' : `* OK [UIDVALIDITY ${validity}] ok\r\n`}a1 OK [READ-WRITE] done\r\n`],
    ...fetches.flatMap(([command, responses], i): Script => [['client', `f${i} ${command}\r\n`], ['server', `${responses}f${i} OK\r\n`]]),
  ];
}

/** Something else fetched in between: with a budget of 0 every response spills what is held. */
const OTHER = session(9, [['UID FETCH 99 (UID FLAGS)', '* 1 FETCH (UID 99 FLAGS ())\r\n']]);

/**
 * The sessions fed one after the other (each on a connection of its own; `settle` waits for trees parsed from
 * whole messages after that session) to an in-memory tracker, to one that spills after every response, and to one
 * that never spills but holds every message but the latest as its run record (`live: 1`). Both must list what memory
 * lists, and the last must warn as memory does.
 */
async function bothWays(sessions: { script: Script; settle?: boolean }[]): Promise<{ memory: FetchedMessage[]; merged: MessageView[]; runs: number; warned: string[] }> {
  const dir = scratch();
  try {
    const warnings = { memory: [] as string[], compacting: [] as string[] };
    const memory = new FetchTracker({ warn: (frame, conn, m) => warnings.memory.push(`${conn} ${frame} ${m}`) });
    const spilling = new FetchTracker({ spill: { budget: 0, dir } });
    const compacting = new FetchTracker({ spill: { budget: 1e9, dir, live: 1 }, warn: (frame, conn, m) => warnings.compacting.push(`${conn} ${frame} ${m}`) });
    const trackers = [memory, spilling, compacting];
    let id = 0;
    for (const { script, settle } of sessions) {
      for (const t of trackers) feedTracker(t, script, id);
      id++;
      if (settle) await Promise.all(trackers.map((t) => t.settle()));
    }
    await Promise.all(trackers.map((t) => t.settle()));
    const runs = spilling.spilledRuns;
    const merged = [...spilling.sorted()];
    assert.equal(compacting.spilledRuns, 0);
    assert.deepEqual([...compacting.sorted()], views(memory.list()), 'held as run records and merged in memory');
    assert.deepEqual(warnings.compacting, warnings.memory);
    assert.deepEqual(readdirSync(dir), []);
    return { memory: memory.list(), merged, runs, warned: warnings.memory };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const uid10 = (list: FetchedMessage[]) => list.find((m) => m.uid === 10)!;

test('pieces combine as in memory: a certain message keeps its first BODYSTRUCTURE; an uncertain one takes the latest', async () => {
  for (const validity of [7, null]) {
    const { memory, merged, runs } = await bothWays([
      { script: session(validity, [['UID FETCH 10 (UID BODYSTRUCTURE)', `* 1 FETCH (UID 10 BODYSTRUCTURE ${MIXED_TREE})\r\n`]]) },
      { script: OTHER },
      { script: session(validity, [['UID FETCH 10 (UID BODYSTRUCTURE)', `* 1 FETCH (UID 10 BODYSTRUCTURE ${TEXT_TREE})\r\n`]]) },
    ]);
    assert.ok(runs >= 2, `runs: ${runs}`);
    assert.equal(uid10(memory).structure?.type, validity === null ? 'text/plain' : 'multipart/mixed');
    assert.deepEqual(merged, views(memory), `UIDVALIDITY ${validity}`);
  }
});

test('pieces combine as in memory: a certain message whose first BODYSTRUCTURE could not be read keeps none', async () => {
  const { memory, merged, runs } = await bothWays([
    { script: session(7, [['UID FETCH 10 (UID BODYSTRUCTURE)', '* 1 FETCH (UID 10 BODYSTRUCTURE NIL)\r\n']]) },
    { script: OTHER },
    { script: session(7, [['UID FETCH 10 (UID BODYSTRUCTURE)', `* 1 FETCH (UID 10 BODYSTRUCTURE ${TEXT_TREE})\r\n`]]) },
  ]);
  assert.ok(runs >= 2);
  assert.deepEqual([uid10(memory).structure, uid10(memory).structureFrom], [null, 'BODYSTRUCTURE']);
  assert.deepEqual(merged, views(memory));
});

test('pieces combine as in memory: a tree parsed from the message gives way to a later BODYSTRUCTURE, never the reverse', async () => {
  const whole = ['UID FETCH 10 (UID BODY[])', `* 1 FETCH (UID 10 BODY[] {${RAW.length}}\r\n${RAW})\r\n`] as [string, string];
  const structure = ['UID FETCH 10 (UID BODYSTRUCTURE)', `* 1 FETCH (UID 10 BODYSTRUCTURE ${TEXT_TREE})\r\n`] as [string, string];
  for (const validity of [7, null]) {
    const derivedFirst = await bothWays([{ script: session(validity, [whole]), settle: true }, { script: OTHER }, { script: session(validity, [structure]) }]);
    assert.equal(uid10(derivedFirst.memory).structureFrom, 'BODYSTRUCTURE');
    assert.deepEqual(derivedFirst.merged, views(derivedFirst.memory));
    const structureFirst = await bothWays([{ script: session(validity, [structure]) }, { script: OTHER }, { script: session(validity, [whole]), settle: true }]);
    assert.equal(uid10(structureFirst.memory).structure?.type, 'text/plain');
    assert.equal(uid10(structureFirst.memory).envelope?.subject, 'whole', 'the envelope from the later BODY[]');
    assert.deepEqual(structureFirst.merged, views(structureFirst.memory));
  }
});

test('a message whose tree is still being parsed is not spilled before it is final', async () => {
  const { memory, merged, runs } = await bothWays([
    { script: session(7, [['UID FETCH 10 (UID BODY[])', `* 1 FETCH (UID 10 BODY[] {${RAW.length}}\r\n${RAW})\r\n`]]) },
    { script: OTHER },
  ]);
  assert.ok(runs >= 1);
  assert.equal(uid10(memory).structureFrom, 'message');
  assert.deepEqual(merged, views(memory));
});

test('pieces combine as in memory: the first sequence number, envelope, size and date, fetches in order', async () => {
  const { memory, merged } = await bothWays([
    { script: session(7, [['FETCH 3 (UID FLAGS RFC822.SIZE)', '* 3 FETCH (UID 10 FLAGS (\\Seen) RFC822.SIZE 120)\r\n'], ['UID FETCH 10 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])', '* 3 FETCH (UID 10 BODY[HEADER.FIELDS (SUBJECT)] {16}\r\nSubject: first\r\n)\r\n']]) },
    { script: OTHER },
    { script: session(7, [['FETCH 5 (UID FLAGS INTERNALDATE BODY[1])', '* 5 FETCH (UID 10 FLAGS (\\Flagged) INTERNALDATE "01-Jan-2024 10:00:00 +0000" BODY[1] {2}\r\nhi)\r\n'], ['UID FETCH 10 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])', '* 5 FETCH (UID 10 BODY[HEADER.FIELDS (SUBJECT)] {17}\r\nSubject: second\r\n)\r\n']]) },
  ]);
  const m = uid10(memory);
  assert.equal(m.seq, 3);
  assert.deepEqual(m.flags, ['\\Flagged']);
  assert.equal(m.envelope?.subject, 'first');
  assert.equal(m.size, 120);
  assert.equal(m.internalDate, '01-Jan-2024 10:00:00 +0000');
  assert.deepEqual(m.fetches.map((f) => f.section), ['HEADER.FIELDS (SUBJECT)', '1', 'HEADER.FIELDS (SUBJECT)']);
  assert.deepEqual(merged, views(memory));
});

/** A generator's values and what it returns. */
function drained<T>(it: Generator<T, number>): { made: T[]; counted: number } {
  const made: T[] = [];
  for (let next = it.next(); ; next = it.next()) {
    if (next.done) return { made, counted: next.value };
    made.push(next.value);
  }
}

test('sorted(N) makes the first N messages as sorted() does and counts the rest by their identity, each once however many pieces it has', async () => {
  const dir = scratch();
  try {
    let pieces = 0;
    for (const capture of RECORDED) {
      const memory = await inMemory(capture);
      pieces += fetchedRepeatedly(memory);
      const expected = views(memory);
      for (const budget of [1, 3]) {
        for (const first of [...new Set([0, 1, 5, Math.max(0, expected.length - 1), expected.length, expected.length + 3])]) {
          const tracker = (await analyzeWithFetches(capture, {}, { spill: { budget, dir } })).fetches;
          const { made, counted } = drained(tracker.sorted(first));
          assert.deepEqual(made, expected.slice(0, first), `${capture}: the first ${first} at budget ${budget}`);
          assert.equal(made.length + counted, expected.length, `${capture}: every message counted at budget ${budget}`);
        }
      }
      // Held in memory (no spill): every one made, none counted.
      assert.deepEqual(drained((await analyzeWithFetches(capture)).fetches.sorted(1)), { made: expected, counted: 0 });
    }
    assert.ok(pieces >= 10, `messages fetched in several responses, in pieces across runs: ${pieces}`);
    assert.deepEqual(readdirSync(dir), [], 'every run directory removed, counted to the end or not');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mailboxes whose names sort alike stay apart and keep list() order: no mailbox, "", and UIDVALIDITY 0 or none', async () => {
  const noSelect: Script = [['client', 'a2 FETCH 1 (UID FLAGS)\r\n'], ['server', '* 1 FETCH (UID 10 FLAGS ())\r\na2 OK\r\n']];
  const empty: Script = [['client', 'a1 SELECT ""\r\n'], ['server', 'a1 OK done\r\n'], ['client', 'a2 FETCH 2 (UID FLAGS)\r\n'], ['server', '* 2 FETCH (UID 10 FLAGS ())\r\na2 OK\r\n']];
  const zero: Script = [['client', 'a1 SELECT ""\r\n'], ['server', '* OK [UIDVALIDITY 0] ok\r\na1 OK done\r\n'], ['client', 'a2 FETCH 1 (UID FLAGS)\r\n'], ['server', '* 1 FETCH (UID 10 FLAGS ())\r\na2 OK\r\n']];
  const { memory, merged } = await bothWays([{ script: empty }, { script: noSelect }, { script: zero }, { script: empty }]);
  assert.deepEqual(memory.map((m) => [m.mailbox, m.uidValidity, m.seq]), [[null, null, 1], ['', 0, 1], ['', null, 2]]);
  assert.deepEqual(merged, views(memory));
  // With the same sequence number too, the mailboxes themselves decide (none before a name, UIDVALIDITY none before
  // 0), not which was seen first: the tracker forgets mailboxes, so first sight is not known.
  const emptyAtOne: Script = [['client', 'a1 SELECT ""\r\n'], ['server', 'a1 OK done\r\n'], ['client', 'a2 FETCH 1 (UID FLAGS)\r\n'], ['server', '* 1 FETCH (UID 10 FLAGS ())\r\na2 OK\r\n']];
  const tied = await bothWays([{ script: zero }, { script: emptyAtOne }, { script: noSelect }]);
  assert.deepEqual(tied.memory.map((m) => [m.mailbox, m.uidValidity, m.seq]), [[null, null, 1], ['', null, 1], ['', 0, 1]]);
  assert.deepEqual(tied.merged, views(tied.memory));
  // sorted(1) makes the whole slot, whose order is only known once all of it is made, and counts what follows.
  const dir = scratch();
  try {
    const tracker = new FetchTracker({ spill: { budget: 0, dir } });
    [zero, emptyAtOne, noSelect, OTHER].forEach((script, id) => feedTracker(tracker, script, id));
    await tracker.settle();
    const { made, counted } = drained(tracker.sorted(1));
    assert.deepEqual(made, tied.merged);
    assert.equal(counted, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message held as its run record and met again is checked against its earlier tree, and not parsed again', async () => {
  // live: 1 — OTHER's response pushes UID 10 out, so the later fetches continue a record held as a string.
  const { memory, merged, warned } = await bothWays([
    { script: session(7, [['UID FETCH 10 (UID BODYSTRUCTURE)', `* 1 FETCH (UID 10 BODYSTRUCTURE ${MIXED_TREE})\r\n`]]) },
    { script: OTHER },
    { script: session(7, [['UID FETCH 10 (BODY[3] BODY[2])', '* 1 FETCH (UID 10 BODY[3] {2}\r\nhi BODY[2] {2}\r\nxx)\r\n']]) },
    { script: OTHER },
    { script: session(7, [['UID FETCH 10 (BODY[4])', '* 1 FETCH (UID 10 BODY[4] {2}\r\nyy)\r\n']]) },
  ]);
  assert.deepEqual(uid10(memory).fetches.map((f) => f.section), ['3', '2', '4']);
  assert.deepEqual(merged, views(memory));
  // bothWays found the compacting tracker's warnings equal to memory's, which names parts 3 and 4 (not 2).
  assert.deepEqual(warned.map((w) => /names part (\d+)/.exec(w)?.[1]), ['3', '4'], warned.join('\n'));
});

test('run lines number the texts that recur and write out new ones once the table is full; both read back as they were', async () => {
  const messages = views(await inMemory(join(CAPTURES, 'seed-alice.pcap')));
  const sections = new Set(messages.flatMap((m) => [...m.fetches].map((f) => f.section)));
  assert.ok(sections.size > 3, `seed-alice fetches ${sections.size} distinct sections`);
  for (const max of [MAX_CODED_TEXTS, 3]) {
    const codec = new RecordCodec(max);
    const lines = messages.map((message) => codec.encode({ message }));
    assert.deepEqual(lines.map((l) => codec.decode(l).message), messages, `table of ${max}`);
    // A fetch row's section (its 7th element) is a number in the table, or the text once the table is full.
    const records = lines.map((l) => JSON.parse(l) as unknown[][][]);
    const rows = records.flatMap((r) => r[9]!);
    const sectionsWritten = rows.map((row) => typeof row[6]);
    // The coded texts (a fetch row's command, item, section and how; a part row's type, encoding, charset and
    // disposition) are numbers below the table's size, or texts.
    const coded = [...rows.flatMap((row) => [row[2], row[5], row[6], row[8]]), ...records.flatMap((r) => r[8] ?? []).flatMap((p) => [p[1], p[2], p[5], p[6]])];
    assert.ok(coded.every((c) => c === null || typeof c === 'string' || (c as number) < max));
    assert.equal(sectionsWritten.every((t) => t === 'number'), max === MAX_CODED_TEXTS, `sections written out with a table of ${max}`);
  }
});

test('held lines live in the runs\' arena until a spill writes them, which empties it; the merge reads them back', async () => {
  const messages = views(await inMemory(join(CAPTURES, 'seed-alice.pcap')));
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-held-test-'));
  try {
    const runs = new MessageRuns(dir);
    const hold = (list: MessageView[]) => list.map((message) => {
      const line = runs.lines.octetsOf(runs.lines.add(runs.codec.encode({ message })));
      return { message: { mailbox: message.mailbox, uidValidity: message.uidValidity, uid: message.uid, seq: message.uid === null ? message.seq : 0 }, line };
    });
    const half = Math.ceil(messages.length / 2);
    runs.spill(hold(messages.slice(0, half)));
    assert.equal(runs.lines.count, 0, 'a spill takes every held line, so the arena starts over');
    const rest = hold(messages.slice(half));
    assert.equal(runs.lines.count, messages.length - half);
    assert.deepEqual([...runs.messages(rest)], messages, 'one run and the lines still held, merged in order');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message the tracker has spilled is let go: the ring of the latest responses\' messages keeps none that went to disk', async () => {
  const dir = scratch();
  try {
    const spilled: WeakRef<FetchedMessage>[] = [];
    const tracker = new FetchTracker({ spill: { budget: 50, dir }, onSection: (m) => { if (spilled.length === 0) spilled.push(new WeakRef(m)); } });
    // One response of 60 sections (over the budget: spilled at its end), then another message's.
    const sections = () => Array.from({ length: 60 }, (_, i) => ` BODY[${i + 1}] {1}\r\nx`).join('');
    feedTracker(tracker, [['client', 'a1 SELECT INBOX\r\n'], ['server', '* OK [UIDVALIDITY 7] ok\r\na1 OK done\r\n'],
      ['client', 'a2 UID FETCH 10 (BODY[1:60])\r\n'], ['server', `* 1 FETCH (UID 10${sections()})\r\na2 OK\r\n`],
      ['client', 'a3 UID FETCH 11 (FLAGS)\r\n'], ['server', '* 2 FETCH (UID 11 FLAGS ())\r\na3 OK\r\n']]);
    assert.equal(tracker.spilledRuns, 1);
    await collectGarbage();
    assert.equal(spilled[0]!.deref(), undefined, 'the spilled message is garbage');
    assert.equal([...tracker.sorted()].find((m) => m.uid === 10)?.fetches.length, 60, 'and read back from its run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run line\'s identity is read off its start as decoding reads it: no mailbox, "", and names with quotes, backslashes and commas', async () => {
  const [message] = views(await inMemory(join(CAPTURES, 'seed-alice.pcap')));
  const codec = new RecordCodec();
  for (const mailbox of [null, '', 'INBOX', 'a "quoted", \\ name\\', '\\"', 'Ünïcode, too']) {
    for (const uid of [null, 42]) {
      const line = codec.encode({ message: { ...message!, mailbox, uid, seq: 7, uidValidity: uid === null ? null : 3 } }).slice(0, -1);
      const { uidValidity, seq } = codec.decode(line).message;
      assert.deepEqual(codec.decodeKey(line), { mailbox, uidValidity, uid, seq }, `${mailbox} ${uid}`);
    }
  }
});

test(`a message of more than ${SECTIONS_PER_LINE} sections is written as a line per ${SECTIONS_PER_LINE}, and the merge makes it whole again, in order`, async () => {
  const [first] = views(await inMemory(join(CAPTURES, 'seed-alice.pcap')));
  const section = [...first!.fetches][0]!;
  const many = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ ...section, frame: from + i }));
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-lines-test-'));
  try {
    const runs = new MessageRuns(dir);
    const count = 2 * SECTIONS_PER_LINE + 100;
    // Two spills of the same message (fetched again after the first): two runs of three lines each.
    runs.spill([{ message: { ...first!, fetches: many(0, count) } }]);
    runs.spill([{ message: { ...first!, envelope: null, fetches: many(count, count) } }]);
    const lines = readdirSync(dir).flatMap((d) => readdirSync(join(dir, d)).map((f) => readFileSync(join(dir, d, f), 'utf8').split('\n').filter(Boolean)));
    assert.deepEqual(lines.map((l) => l.length), [3, 3]);
    const [whole, ...others] = [...runs.messages([])];
    assert.equal(others.length, 0);
    assert.deepEqual([...whole!.fetches].map((f) => f.frame), many(0, 2 * count).map((f) => f.frame));
    assert.deepEqual({ ...whole!, fetches: null }, { ...first!, fetches: null }, 'the first line\'s envelope, size, date and tree');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message fetched again and again is held whole once it continues earlier pieces: its record is not encoded anew each time (linear)', () => {
  const script: Script = [['client', 'a1 SELECT INBOX\r\n'], ['server', '* OK [UIDVALIDITY 7] ok\r\na1 OK done\r\n']];
  const times = 300;
  for (let i = 0; i < times; i++) {
    script.push(['client', `f${i} UID FETCH 10 (BODY[1])\r\n`], ['server', `* 1 FETCH (UID 10 BODY[1] {2}\r\nhi)\r\nf${i} OK\r\n`]);
    script.push(['client', `g${i} UID FETCH ${20 + i} (UID FLAGS)\r\n`], ['server', `* 2 FETCH (UID ${20 + i} FLAGS ())\r\ng${i} OK\r\n`]);
  }
  const encode = RecordCodec.prototype.encode;
  const encodedUids: (number | null)[] = [];
  RecordCodec.prototype.encode = function (this: RecordCodec, h) {
    encodedUids.push(h.message.uid);
    return encode.call(this, h);
  };
  const dir = scratch();
  try {
    // live: 1 — every other response pushes UID 10 out of the ring.
    const tracker = new FetchTracker({ spill: { budget: 1e9, dir, live: 1 } });
    feedTracker(tracker, script, 0);
    const merged = [...tracker.sorted()];
    assert.equal(merged.find((m) => m.uid === 10)!.fetches.length, times);
    assert.equal(merged.length, times + 1);
    // Compacted once, then continued whole (re-encoding its growing record each time was quadratic).
    assert.equal(encodedUids.filter((u) => u === 10).length, 1);
  } finally {
    RecordCodec.prototype.encode = encode;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('onStep: every FETCH command\'s step is handed on once, complete, and in request order they are the steps kept in memory', async () => {
  const captures = [...RECORDED, ...(hasPublic ? PUBLIC.map(publicCapture) : [])];
  for (const capture of captures) {
    const held = (await analyzeWithFetches(capture, {}, { stepUids: false })).fetches.steps;
    const handed: { step: unknown; frame: number; created: number }[] = [];
    const spilling = await analyzeWithFetches(capture, {}, {
      stepUids: false,
      onStep: (step, created) => handed.push({ step: structuredClone(step), frame: step.requestFrame ?? Infinity, created }),
    });
    assert.deepEqual(spilling.fetches.steps, [], `${capture}: no step kept`);
    assert.equal(new Set(handed.map((h) => h.created)).size, handed.length, `${capture}: each step once`);
    handed.sort((a, b) => a.frame - b.frame || a.created - b.created);
    // Cloned when handed on: a step that changed afterwards (a later response) would differ from the kept one.
    assert.deepEqual(handed.map((h) => h.step), structuredClone(held), capture);
  }
});

test('fetches spills its steps and reads them back: the same listing and document as with everything held, also with -Y', () => {
  const missing = join(tmpdir(), 'imapscope-no-such-dir', 'deeper');
  const tmp = scratch();
  try {
    const captures = [join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'offlineimap.pcapng')];
    for (const args of [['--json', ...captures], captures, ['--json', '-Y', 'imap.tag == "5" || imap.command == "UID FETCH"', ...captures], ['--jobs', '2', '--json', ...captures]]) {
      const spilled = runCli(['fetches', ...args], { env: { TMPDIR: tmp } });
      const held = runCli(['fetches', ...args], { env: { TMPDIR: missing } });
      assert.equal(spilled.code, 0, spilled.stderr);
      assert.match(spilled.stdout, /Fetch strategy|"strategy": \[\n/);
      assert.equal(spilled.stdout, held.stdout, args.join(' '));
      assert.deepEqual(readdirSync(tmp), [], 'nothing left');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('StepFile: steps that came in request order need no memory; those that came late are put in their place', () => {
  const tmp = scratch();
  try {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (const lateOnes of [0, 1, 30]) {
      const dir = mkdtempSync(join(tmp, 'steps-'));
      const file = new StepFile(dir);
      // Mostly in request order; some late, some sharing a frame, some with no request captured.
      const made: { step: FetchStep; frame: number; created: number }[] = [];
      for (let created = 0; created < 500; created++) {
        // Every seventh shares the frame of the one before it (two commands in one segment).
        const frame = created % 97 === 96 ? null : 10 + 2 * (created % 7 === 1 ? created - 1 : created);
        made.push({ step: { conn: 1, tag: `t${created}`, command: 'UID FETCH', requestFrame: frame, mailbox: 'INBOX', messages: 1, items: ['UID'], uids: [] }, frame: frame ?? Infinity, created });
      }
      const arrival = made.filter((m) => m.frame !== Infinity);
      // The first late one shares its frame with the one before it, which came in order.
      const late = Array.from({ length: lateOnes }, (_, i) => arrival.splice(i === 0 ? arrival.findIndex((m) => m.created === 8) : random(arrival.length - 1), 1)[0]!);
      for (const m of [...arrival, ...late, ...made.filter((m) => m.frame === Infinity).reverse()]) file.add(m.step, m.created);
      const spilled = file.finish();
      const expected = [...made].sort((a, b) => a.frame - b.frame || a.created - b.created).map((m) => m.step.tag);
      assert.deepEqual([...readSteps(spilled)].map((st) => st.tag), expected, `${lateOnes} late`);
      // The steps without a request frame came in reverse: all but the first of them came late.
      assert.equal(spilled.late.offsets.length, lateOnes + 5 - 1);
      // A reading stopped early (a closed pipe) leaves neither file open.
      const open = () => readdirSync('/proc/self/fd').length;
      const before = open();
      const reading = readSteps(spilled);
      assert.equal(reading.next().value?.tag, expected[0]);
      assert.equal(open(), before + (lateOnes + 5 - 1 > 0 ? 2 : 1));
      reading.return(undefined);
      assert.equal(open(), before);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('fetches of a capture that cannot be read: the step file it had begun is closed, not left open', async () => {
  const tmp = scratch();
  try {
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    const input = { path: join(tmp, 'no-such.pcap'), settings: { ports: [143, 993], keySecrets: new KeyLog().secrets }, conn: undefined, filter: undefined, ndjson: false, json: true, multi: false, spill: { budget: 1, dir: tmp } };
    await assert.rejects(fetchesOfCapture(input, () => {}));
    assert.equal(open(), before);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('onStep: a step whose exchange is never reported complete is handed on at endSteps(), once', () => {
  const handed: string[] = [];
  const tracker = new FetchTracker({ onStep: (step) => handed.push(`${step.tag} ${step.messages}`) });
  // feedTracker reports no exchange to the tracker (no exchangeDone).
  feedTracker(tracker, [
    ['server', '* OK ready\r\n'], ['client', 'a1 SELECT INBOX\r\n'], ['server', '* 2 EXISTS\r\na1 OK [READ-WRITE] done\r\n'],
    ['client', 'a2 FETCH 1:2 (FLAGS)\r\n'], ['server', '* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Seen))\r\na2 OK done\r\n'],
  ]);
  assert.deepEqual(handed, []);
  assert.deepEqual(tracker.steps, []);
  tracker.endSteps();
  tracker.endSteps();
  assert.deepEqual(handed, ['a2 2']);
});
