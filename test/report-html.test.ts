/**
 * The HTML report without a browser: its embedded data agrees with summary, commands, fetches and compare
 * on every recorded capture; wire text cannot break out of the page; the CSP admits exactly the page's own
 * script and style; the command line writes where it is told and fails cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES, CLI } from './helpers/env.js';
import { HOSTILE, writeHostileCapture } from './helpers/report-captures.js';
import { cliJson, embeddedData, recordedCaptureArgs, runCli, type CommandsJson, type SummaryJson } from './helpers/report.js';
import { histogramBin, HISTOGRAM_EDGES_MS, LADDER_EXCHANGES, MAX_MESSAGES, messageData } from '../src/report/html/model.js';
import type { SectionFetch } from '../src/analysis/fetches.js';
import type { PartView } from '../src/analysis/message-view.js';
import { HeadAndTail } from '../src/util/head-and-tail.js';
import { Ladders } from '../src/report/html/ladders.js';
import type { ExchangeData } from '../src/report/html/data.js';
import { generateScaleCapture } from '../bench/scale-captures.js';
import { buildReportData } from '../src/report/html/report.js';
import { scriptSafe } from '../src/report/html/template.js';
import { writeClockStepBackCapture } from './helpers/synth.js';
import { collectGarbage } from './helpers/gc.js';

const dir = mkdtempSync(join(tmpdir(), 'imapscope-report-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function report(args: string[]): string {
  const r = runCli(['report', ...args, '-o', '-']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The page's data agrees with summary, commands and fetches given the same arguments (a -Y included). */
function assertAgreesWithCli(args: string[]): void {
  const data = embeddedData(report(args));
  assert.equal(data.captures.length, 1);
  const [cap] = data.captures;
  const summary = cliJson<SummaryJson>(['summary', ...args]);
  const { exchanges } = cliJson<CommandsJson>(['commands', ...args]);
  const fetches = cliJson<{ messages: { fetches: unknown[] }[] }>(['fetches', ...args]);

  assert.deepEqual(cap!.connections.map((c) => c.id).sort((a, b) => a - b), summary.connections.map((c) => c.id).sort((a, b) => a - b));
  // In order of start; each with its settled times (seconds from the capture's start) and last frame, as summary says.
  const t0 = Date.parse(summary.captures[0]!.start!);
  const seconds = (iso: string) => (Date.parse(iso) - t0) / 1000;
  const near = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) < 1e-3, `${what}: ${a} against ${b}`);
  for (const [i, c] of cap!.connections.entries()) {
    const s = summary.connections.find((x) => x.id === c.id)!;
    if (i > 0) assert.ok(cap!.connections[i - 1]!.start <= c.start, `connection ${c.id} in order of start`);
    assert.deepEqual([c.firstFrame, c.lastFrame], [s.firstFrame, s.lastFrame], `connection ${c.id} frames`);
    near(c.start, seconds(s.start), `connection ${c.id} start`);
    near(c.end, seconds(s.end), `connection ${c.id} end`);
  }
  assert.equal(cap!.maxOpen, summary.concurrency.max);
  // The chart: a step per start and end, in time order, each one more or one fewer open, up to maxOpen and back to none.
  assert.equal(cap!.open.length, 2 * cap!.connections.length);
  cap!.open.forEach(([t, n], i) => {
    const [pt, pn] = i > 0 ? cap!.open[i - 1]! : [-Infinity, 0];
    assert.ok(t >= pt && Math.abs(n - pn) === 1, `step ${i}: ${t} s, ${n} open, after ${pt} s, ${pn}`);
  });
  assert.equal(Math.max(0, ...cap!.open.map(([, n]) => n)), cap!.maxOpen);
  if (cap!.open.length > 0) assert.equal(cap!.open[cap!.open.length - 1]![1], 0);
  assert.equal(cap!.exchangeCount, exchanges.length);
  for (const conn of cap!.connections) {
    const expected = exchanges.filter((e) => e.conn === conn.id)
      .map((e) => [e.requestFrame, e.responseFrame, e.tag, e.command, e.status, e.latencyMs]);
    const shown = conn.exchanges.map((e) => [e.requestFrame, e.responseFrame, e.tag, e.command, e.status, e.latencyMs]);
    assert.deepEqual(shown, expected, `connection ${conn.id}`);
    for (const [k, e] of exchanges.filter((x) => x.conn === conn.id).entries()) {
      if (e.start !== null) near(conn.exchanges[k]!.start, seconds(e.start), `connection ${conn.id} exchange ${k} start`);
    }
  }
  assert.deepEqual(
    cap!.commands.map(({ command, count, ok, no, bad, incomplete, medianMs, p95Ms }) => ({ command, count, ok, no, bad, incomplete, medianMs, p95Ms })),
    summary.commands.map(({ command, count, ok, no, bad, incomplete, medianMs, p95Ms }) => ({ command, count, ok, no, bad, incomplete, medianMs, p95Ms })));
  for (const c of cap!.commands) {
    const latencies = exchanges.filter((e) => e.command === c.command && e.latencyMs !== null).map((e) => e.latencyMs!);
    const bins = new Array<number>(HISTOGRAM_EDGES_MS.length + 1).fill(0);
    for (const ms of latencies) bins[histogramBin(ms)]!++;
    assert.deepEqual(c.histogram, bins, `histogram of ${c.command}`);
  }
  assert.equal(cap!.messages.length, fetches.messages.length);
  const refs = cap!.messages.map((m) => m.fetches.length + m.parts.reduce((n, p) => n + p.fetches.length, 0));
  assert.deepEqual(refs, fetches.messages.map((m) => m.fetches.length), 'every fetched section is attributed once, to its message or one of its parts');
}

test('report: times count from the capture\'s earliest frame even when it is not the first (a clock stepped back), as summary and commands count them', () => {
  const path = join(dir, 'backwards.pcap');
  writeClockStepBackCapture(path);
  const cap = embeddedData(report([path])).captures[0]!;
  assert.ok(cap.connections[1]!.exchanges[0]!.start! > 1000, `${cap.connections[1]!.exchanges[0]!.start} s from the capture's start`);
  assertAgreesWithCli([path]);
});

for (const { name, args } of recordedCaptureArgs()) {
  test(`report of ${name}: connections, exchanges, command statistics and messages agree with summary, commands and fetches`, () => {
    assertAgreesWithCli(args);
  });
}

test('report -Y: the page holds the matching exchanges, their connections and what they fetched, as summary, commands and fetches -Y say', () => {
  const offlineimap = join(CAPTURES, 'offlineimap.pcapng');
  const mbsync = join(CAPTURES, 'mbsync.pcap');
  const whole = embeddedData(report([offlineimap])).captures[0]!;
  const [first, second] = whole.connections.map((c) => c.id);
  assert.ok(second !== undefined, 'offlineimap opens more than one connection');
  // A connection filter: one lane, its exchanges only.
  const one = embeddedData(report([offlineimap, '-Y', `tcp.stream == ${second}`])).captures[0]!;
  assert.deepEqual(one.connections.map((c) => c.id), [second]);
  assert.ok(one.exchangeCount > 0 && one.exchangeCount < whole.exchangeCount);
  assertAgreesWithCli([offlineimap, '-Y', `tcp.stream == ${first}`]);
  // An exchange filter: only UID FETCH rows and statistics, and only the messages they fetched.
  const fetchOnly = embeddedData(report([mbsync, '-Y', 'imap.command == "UID FETCH"'])).captures[0]!;
  assert.deepEqual([...new Set(fetchOnly.connections.flatMap((c) => c.exchanges.map((e) => e.command)))], ['UID FETCH']);
  assert.deepEqual(fetchOnly.commands.map((c) => c.command), ['UID FETCH']);
  assertAgreesWithCli([mbsync, '-Y', 'imap.command == "UID FETCH" && imap.args contains "BODY.PEEK[]"']);
  // A filter no exchange matches leaves an empty page, not an error.
  const none = embeddedData(report([mbsync, '-Y', 'imap.command == "NOSUCH"'])).captures[0]!;
  assert.deepEqual([none.connections.length, none.exchangeCount, none.messages.length, none.commands.length], [0, 0, 0, 0]);
});

test('histogram bins: 1-3-10 steps from 0.1 ms, the last one open-ended', () => {
  assert.equal(histogramBin(0), 0);
  assert.equal(histogramBin(0.1), 1);
  assert.equal(histogramBin(0.3), 2);
  assert.equal(histogramBin(2.9), 3);
  assert.equal(histogramBin(3), 4);
  assert.equal(histogramBin(9999), 10);
  assert.equal(histogramBin(10000), 11);
  assert.equal(histogramBin(1e9), HISTOGRAM_EDGES_MS.length);
});

test('report of seed-alice: no password anywhere in the page, the redacted LOGIN and the ladder markers are there', () => {
  const html = report([join(CAPTURES, 'seed-alice.pcap')]);
  assert.ok(!html.includes('alice-pw'), 'the password never reaches the page');
  const data = embeddedData(html);
  const logins = data.captures[0]!.connections.flatMap((c) => c.exchanges.filter((e) => e.command === 'LOGIN'));
  assert.equal(logins.length, 3);
  for (const l of logins) assert.match(l.args, /\*\*\*$/);
  assert.ok(data.captures[0]!.connections.every((c) => c.cleartextAuth));
  const mbsync = embeddedData(report([join(CAPTURES, 'mbsync.pcap')])).captures[0]!.connections[0]!;
  assert.ok(mbsync.compressFrame !== null);
  assert.ok(mbsync.markers.some((m) => m.text.startsWith('COMPRESS=DEFLATE active') && m.frame === mbsync.compressFrame), JSON.stringify(mbsync.markers));
});

test('scriptSafe: nothing in JSON text can close the script element or end a line, and the value survives', () => {
  const value = { s: '</script><!-- & \u2028\u2029 >' };
  const text = scriptSafe(JSON.stringify(value));
  assert.doesNotMatch(text, /[<>&\u2028\u2029]/);
  assert.deepEqual(JSON.parse(text), value);
});

test('a hostile capture: wire text stays data (no element, no raw line separator) and arrives intact', () => {
  const capture = join(dir, 'hostile.pcap');
  writeHostileCapture(capture);
  const html = report([capture]);
  assert.equal(html.match(/<script/g)?.length, 2, 'only the data and the page script');
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /[\u2028\u2029]/);
  const cap = embeddedData(html).captures[0]!;
  const conn = cap.connections[0]!;
  const message = cap.messages[0]!;
  assert.equal(message.subject, HOSTILE.subject);
  assert.equal(message.mailbox, HOSTILE.mailbox);
  assert.equal(message.from, '\u2028Eve <b> <eve@example.org>');
  assert.equal(message.parts.find((p) => p.part === '2')?.filename, HOSTILE.filename);
  assert.ok(conn.greeting?.text.endsWith(HOSTILE.greeting));
  assert.ok(conn.exchanges.some((e) => e.text === HOSTILE.responseText));
  assert.ok(conn.exchanges.some((e) => e.command === 'SELECT' && e.args === `"${HOSTILE.mailbox}"`));
  assert.ok(!html.includes('hunter2'));
});

test('the Content-Security-Policy admits exactly the inline script and style (by hash) and nothing from elsewhere', () => {
  const html = report([join(CAPTURES, 'curl.pcap')]);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1]?.replace(/&#39;/g, "'");
  assert.ok(csp, 'a CSP meta tag');
  const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v.join(' ')]));
  assert.equal(directives.get('default-src'), "'none'");
  assert.equal(directives.get('script-src'), hash(script));
  assert.equal(directives.get('style-src'), hash(style));
  assert.doesNotMatch(html, /\b(?:src|href|action)\s*=\s*["']?(?:https?:)?\/\//i, 'no reference to anything outside the file');
});

test('report of two captures: one section each and the compare verdict', () => {
  const alice = join(CAPTURES, 'seed-alice.pcap');
  const data = embeddedData(report([alice, join(CAPTURES, 'seed-bob.pcap'), join(CAPTURES, 'curl.pcap')]));
  assert.equal(data.captures.length, 3);
  assert.equal(data.comparisons.length, 2);
  const expected = cliJson<{ comparisons: { a: string; b: string; same: boolean; differences: unknown[] }[] }>(['compare', alice, join(CAPTURES, 'seed-bob.pcap'), join(CAPTURES, 'curl.pcap')]);
  assert.deepEqual(data.comparisons.map((c) => [c.a, c.b, c.same, c.differences.length]), expected.comparisons.map((c) => [c.a, c.b, c.same, c.differences.length]));
  assert.equal(data.comparisons[0]!.same, true, 'alice and bob run the same client');
  assert.equal(data.comparisons[1]!.same, false, 'curl is another client');
});

test('report -o: writes the named file (replacing it), refuses a directory or a missing one with exit 2 and one line', () => {
  const out = join(dir, 'r.html');
  writeFileSync(out, 'old');
  const ok = runCli(['report', join(CAPTURES, 'curl.pcap'), '-o', out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, '');
  assert.match(readFileSync(out, 'utf8'), /^<!doctype html>/);
  mkdirSync(join(dir, 'sub'));
  for (const bad of [join(dir, 'sub'), join(dir, 'missing', 'r.html')]) {
    const r = runCli(['report', join(CAPTURES, 'curl.pcap'), '-o', bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^imapscope: -o /);
  }
  const none = runCli(['report', join(CAPTURES, 'curl.pcap')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--output/);
  const unreadable = runCli(['report', join(dir, 'no-such.pcap'), '-o', join(dir, 'x.html')]);
  assert.equal(unreadable.code, 2);
});

test('report -o: a pipe, a terminal or /dev/null there is written into, not replaced; another device is refused', async () => {
  const curl = join(CAPTURES, 'curl.pcap');
  const sub = mkdtempSync(join(dir, 'devices-'));
  // Renamed over, /dev/null itself would become a file (for root); a link to it shows the same without that risk.
  const link = join(sub, 'null');
  symlinkSync('/dev/null', link);
  const toNull = runCli(['report', curl, '-o', link]);
  assert.equal(toNull.code, 0, toNull.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still there');
  assert.ok(statSync('/dev/null').isCharacterDevice());
  // Any other device is refused before the analysis, a link to one too: a link left in a shared directory must not
  // send the page into a disk.
  const zero = join(sub, 'zero');
  symlinkSync('/dev/zero', zero);
  const toZero = runCli(['report', curl, '-o', zero]);
  assert.equal(toZero.code, 2, toZero.stderr);
  assert.match(toZero.stderr, /^imapscope: -o .*zero: is not a file, a pipe, a terminal or \/dev\/null; name a file to write/);
  assert.equal(toZero.stderr.trim().split('\n').length, 1, toZero.stderr);
  assert.ok(lstatSync(zero).isSymbolicLink());
  const fifo = join(sub, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const got = join(sub, 'got.html');
  const reader = spawn('cat', [fifo], { stdio: ['ignore', openSync(got, 'w'), 'ignore'] });
  try {
    const toFifo = runCli(['report', curl, '-o', fifo]);
    assert.equal(toFifo.code, 0, toFifo.stderr);
    const ended = await Promise.race([once(reader, 'exit'), new Promise((resolve) => setTimeout(resolve, 20_000, 'waiting'))]);
    assert.notEqual(ended, 'waiting', 'the reader got the end of the page');
    assert.match(readFileSync(got, 'utf8'), /^<!doctype html>[\s\S]*<\/html>\s*$/);
    assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still there');
  } finally {
    reader.kill();
  }
  assert.deepEqual(readdirSync(sub).sort(), ['fifo', 'got.html', 'null', 'zero'], 'no temporary file left');
});

test('report -o: a FIFO nobody reads waits for its reader, and Ctrl-C ends the wait calmly (exit 130, nothing written)', async () => {
  const sub = mkdtempSync(join(dir, 'unread-'));
  const fifo = join(sub, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const run = spawn(process.execPath, [CLI, 'report', join(CAPTURES, 'curl.pcap'), '-o', fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  run.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  try {
    // The analysis of curl.pcap takes a fraction of this; then the page waits for the FIFO's reader.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    run.kill('SIGINT');
    const ended = await Promise.race([once(run, 'exit'), new Promise((resolve) => setTimeout(resolve, 10_000, 'waiting'))]);
    assert.notEqual(ended, 'waiting', 'Ctrl-C ended the wait');
    assert.equal(run.exitCode, 130, stderr);
    assert.equal(stderr, `imapscope: report interrupted while ${fifo} waited for a reader; nothing was written\n`);
    assert.ok(lstatSync(fifo).isFIFO());
  } finally {
    run.kill('SIGKILL');
  }
});

test('report: the page embeds the first messages in mailbox, UID order and counts the rest; spilled or held (messages and connection rows), the same', async () => {
  // seed-alice's trees come from BODYSTRUCTURE, so they are spilled too (a tree still being parsed from a whole message is not).
  const capture = join(CAPTURES, 'seed-alice.pcap');
  const all = (await buildReportData([capture])).captures[0]!;
  assert.ok(all.messages.length >= 5 && all.messages.length < MAX_MESSAGES, `${all.messages.length} messages`);
  assert.equal(all.messagesOmitted, 0);
  const capped = (await buildReportData([capture], {}, undefined, { maxMessages: 3 })).captures[0]!;
  assert.deepEqual(capped.messages, all.messages.slice(0, 3));
  assert.equal(capped.messagesOmitted, all.messages.length - 3);
  // Every message spilled to sorted runs and merged back gives the same page data.
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-report-spill-'));
  try {
    // The connections' rows wait on disk from each connection's end until the page is written (read as it is), in a
    // directory of the report's own: a second report in the same directory has its own. With a budget of one held
    // exchange, every exchange waits on disk too until its connection is drained.
    const spilled = (await buildReportData([capture], {}, undefined, { spill: { budget: 1, dir }, ladderBudget: 1 })).captures[0]!;
    const again = (await buildReportData([capture], {}, undefined, { spill: { budget: 1, dir } })).captures[0]!;
    const own = readdirSync(dir).filter((f) => f.startsWith('report-')).map((d) => readdirSync(join(dir, d)).sort());
    assert.deepEqual(own.map((files) => files.length).sort(), [2, 3]);
    assert.deepEqual(own.find((files) => files.length === 3), ['ladders-0', 'rows-0', 'rows-0-lifetimes']);
    assert.deepEqual(JSON.parse(JSON.stringify(again)), JSON.parse(JSON.stringify(all)));
    assert.ok(JSON.parse(JSON.stringify(all)).connections.length >= 2);
    assert.deepEqual(JSON.parse(JSON.stringify(spilled)), JSON.parse(JSON.stringify(all)));
    // Spilled and capped: the messages past the first 3 are counted off the runs, not made, and counted all the same.
    const spilledCapped = (await buildReportData([capture], {}, undefined, { spill: { budget: 1, dir }, maxMessages: 3 })).captures[0]!;
    assert.deepEqual(spilledCapped.messages, all.messages.slice(0, 3));
    assert.equal(spilledCapped.messagesOmitted, all.messages.length - 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report of a capture that cannot be read: the files it had begun in the spill directory are closed, not left open', async () => {
  const spill = mkdtempSync(join(dir, 'unreadable-'));
  const open = () => readdirSync('/proc/self/fd').length;
  const before = open();
  await assert.rejects(buildReportData([join(dir, 'no-such.pcap')], {}, undefined, { spill: { budget: 1, dir: spill }, ladderBudget: 1 }));
  assert.equal(open(), before);
});

test('report of a connection of 30,000 commands: its ladder keeps the first and the last 5,000, says how many it left out between them, and counts all', async () => {
  const path = join(dir, 'pipelined.pcap');
  await generateScaleCapture('pipelined', 30_000, path);
  const data = embeddedData(report([path]));
  const [capture] = data.captures;
  const [conn] = capture!.connections;
  assert.equal(conn!.exchanges.length, LADDER_EXCHANGES);
  assert.deepEqual(conn!.omitted, { after: LADDER_EXCHANGES / 2, count: 30_000 - LADDER_EXCHANGES });
  const tags = conn!.exchanges.map((ex) => ex.tag);
  assert.deepEqual([tags[0], tags[4_999], tags[5_000], tags[9_999]], ['p0', 'p4999', 'p25000', 'p29999']);
  assert.ok(tags.every((tag, i) => tag === `p${i < 5_000 ? i : i + 20_000}`), 'in request order on either side of the gap');
  assert.equal(capture!.exchangeCount, 30_000);
  assert.equal(capture!.commands.find((c) => c.command === 'NOOP')!.count, 30_000);
  // Spilled at every 7,000th exchange held, the same ladder.
  const spillDir = mkdtempSync(join(dir, 'ladders-'));
  const spilled = (await buildReportData([path], {}, undefined, { spill: { budget: 10_000, dir: spillDir }, ladderBudget: 7_000 })).captures[0]!;
  const [row] = JSON.parse(JSON.stringify(spilled.connections)) as typeof capture.connections;
  assert.deepEqual(row, conn);
  // A connection of fewer keeps every one.
  const short = embeddedData(report([join(CAPTURES, 'mbsync.pcap')])).captures[0]!;
  assert.ok(short.connections.every((c) => c.omitted === null));
});

test('HeadAndTail keeps the first and the last items in order, and counts those between', () => {
  const kept = (n: number, head: number, tail: number) => {
    const h = new HeadAndTail<number>(head, tail);
    for (let i = 0; i < n; i++) h.push(i);
    return [h.items(), h.headLength, h.omitted];
  };
  assert.deepEqual(kept(5, 3, 3), [[0, 1, 2, 3, 4], 3, 0]);
  assert.deepEqual(kept(6, 3, 3), [[0, 1, 2, 3, 4, 5], 3, 0]);
  assert.deepEqual(kept(7, 3, 3), [[0, 1, 2, 4, 5, 6], 3, 1]);
  assert.deepEqual(kept(100, 2, 3), [[0, 1, 97, 98, 99], 2, 95]);
  assert.deepEqual(kept(10, 2, 0), [[0, 1], 2, 8]);
  assert.deepEqual(kept(1, 2, 2), [[0], 1, 0]);
});

/** A stand-in exchange whose tag says which connection and which of its exchanges it is. */
test('a connection\'s one marker (a TLS connection\'s) is kept in a list of one, not of seventeen (garbage collector\'s count)', async () => {
  const connections = 20_000;
  const ladders = new Ladders(LADDER_EXCHANGES / 2);
  const text = 'the connection is TLS from its first byte';
  await collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let id = 0; id < connections; id++) ladders.marker(id, { frame: id, side: null, text });
  await collectGarbage();
  const each = (process.memoryUsage().heapUsed - before) / connections;
  // Its map entry (about 55 bytes), the marker (40) and a list of one (56): about 150. A push onto a new list made room
  // for seventeen (a list of 184), about 280 in all.
  assert.ok(each < 215, `${each.toFixed(0)} bytes per connection`);
  // Past a few, markers are pushed (a lossy capture's connection has a marker per gap): all kept, in order.
  for (let k = 0; k < 20; k++) ladders.marker(7, { frame: 100_000 + k, side: 'client', text: `gap ${k}` });
  assert.deepEqual(ladders.take(7).markers.map((m) => m.frame), [7, ...Array.from({ length: 20 }, (_, k) => 100_000 + k)]);
});

function ladderRow(id: number, n: number): ExchangeData {
  return {
    tag: `c${id}-${n}`, command: 'NOOP', args: n % 3 ? '' : 'é "x"', status: 'OK', code: null, text: 'done', requestFrame: n, responseFrame: n + 1,
    start: n / 7, end: null, latencyMs: 0.25, untagged: 0, continuations: 0, requestBytes: 9, responseBytes: 20, requestMissing: false,
  };
}

test('Ladders: spilled or held, each connection gets the ladder a plain HeadAndTail would keep, and at most the budget is held', () => {
  const dir2 = mkdtempSync(join(tmpdir(), 'imapscope-ladders-'));
  try {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    let spilledSome = false;
    for (let round = 0; round < 40; round++) {
      const half = 1 + random(6);
      const budget = 1 + random(round < 20 ? 4 : 40);
      const path = join(dir2, `spool-${round}`);
      const ladders = new Ladders(half, { path, budget });
      const model = new Map<number, { rows: HeadAndTail<ExchangeData>; seen: number }>();
      const open: number[] = [];
      let next = 0;
      const check = (id: number) => {
        const m = model.get(id) ?? { rows: new HeadAndTail<ExchangeData>(half, half), seen: 0 };
        model.delete(id);
        const got = ladders.take(id);
        assert.deepEqual(JSON.parse(got.exchanges.join('')), m.rows.items(), `round ${round}, connection ${id}`);
        assert.deepEqual(got.omitted, m.rows.omitted === 0 ? null : { after: m.rows.headLength, count: m.rows.omitted });
      };
      for (let step = 0; step < 600; step++) {
        const r = random(10);
        if (r === 0 || open.length === 0) open.push(next++);
        else if (r === 1) check(open.splice(random(open.length), 1)[0]!);
        else {
          const id = open[random(open.length)]!;
          const m = model.get(id) ?? { rows: new HeadAndTail<ExchangeData>(half, half), seen: 0 };
          model.set(id, m);
          const row = ladderRow(id, m.seen++);
          m.rows.push(row);
          ladders.push(id, row);
          assert.ok(ladders.held <= budget, `${ladders.held} held, budget ${budget}`);
        }
      }
      for (const id of open) check(id);
      ladders.close();
      try {
        spilledSome ||= readFileSync(path).length > 0;
      } catch { /* never spilled */ }
    }
    assert.ok(spilledSome);
    // Once its head is on disk, a connection holds no more than the tail.
    const spool = new Ladders(3, { path: join(dir2, 'tail'), budget: 3 });
    for (let n = 0; n < 14; n++) spool.push(1, ladderRow(1, n));
    assert.equal(spool.held, 3);
    assert.deepEqual((JSON.parse(spool.take(1).exchanges.join('')) as ExchangeData[]).map((ex) => ex.tag), ['c1-0', 'c1-1', 'c1-2', 'c1-11', 'c1-12', 'c1-13']);
    spool.close();
    // Markers are kept per connection, exchanges or not.
    const ladders = new Ladders(2);
    ladders.marker(4, { frame: 9, side: null, text: 'gap' });
    assert.deepEqual(ladders.take(4), { exchanges: ['[]'], omitted: null, markers: [{ frame: 9, side: null, text: 'gap' }] });
  } finally {
    rmSync(dir2, { recursive: true, force: true });
  }
});

test('Ladders: a connection whose exchanges went to the spool keeps four numbers and a map entry (garbage collector\'s count)', async () => {
  const dir2 = mkdtempSync(join(tmpdir(), 'imapscope-ladders-'));
  try {
    const connections = 20_000;
    const ladders = new Ladders(LADDER_EXCHANGES / 2, { path: join(dir2, 'spool'), budget: 1_000 });
    for (let id = 0; id < 2_000; id++) ladders.push(id, ladderRow(id, 0)); // the slots' columns grown past their first size
    await collectGarbage();
    const before = process.memoryUsage().heapUsed;
    for (let id = 2_000; id < 2_000 + connections; id++) for (let n = 0; n < 2; n++) ladders.push(id, ladderRow(id, n));
    await collectGarbage();
    const each = (process.memoryUsage().heapUsed - before) / connections;
    // Its slot (32 bytes, outside the heap) and its map entry (about 30 as measured), and at most 1,000 exchanges held
    // for all. An object per connection holding the four numbers cost 72 bytes of heap more (95 measured).
    assert.ok(each < 100, `${each.toFixed(0)} bytes per connection`);
    assert.ok(ladders.held <= 1_000);
    assert.deepEqual((JSON.parse(ladders.take(2_500).exchanges.join('')) as ExchangeData[]).map((ex) => ex.tag), ['c2500-0', 'c2500-1']);
    ladders.close();
  } finally {
    rmSync(dir2, { recursive: true, force: true });
  }
});

test('Ladders: connections drained between spills are not listed for the next one for ever', () => {
  const dir2 = mkdtempSync(join(tmpdir(), 'imapscope-ladders-'));
  try {
    const ladders = new Ladders(5_000, { path: join(dir2, 'spool'), budget: 1_000 });
    for (let id = 0; id < 100_000; id++) {
      ladders.push(id, ladderRow(id, 0));
      if (id >= 10) ladders.take(id - 10); // ten open at a time: the budget is never reached
      assert.ok(ladders.listed <= 2 * 11 + 64, `${ladders.listed} listed`);
    }
    // A drained connection's slot is given to the next: room for the first 64 is room enough.
    assert.equal(ladders.slotRoom, 64);
    ladders.close();
  } finally {
    rmSync(dir2, { recursive: true, force: true });
  }
});

test('a message of 2,000 parts, each fetched: the page finds each part\'s fetches in one pass over them, not one per part', () => {
  let partReads = 0;
  const parts: PartView[] = Array.from({ length: 2_000 }, (_, i) => ({
    part: String(i + 1), type: 'text/plain', encoding: '7bit', size: 5, filename: null, charset: null, disposition: null, leaf: true, depth: 1, enclosed: false,
  }));
  const fetches = parts.map((p): SectionFetch => {
    const f: SectionFetch = {
      conn: 0, tag: 'a2', command: 'UID FETCH', requestFrame: 9, frame: 10, item: `BODY[${p.part}]`, section: p.part, spec: { part: p.part, text: null, fields: [] },
      origin: null, how: 'full', bytes: 5, sha256: null, complete: true, part: p.part,
    };
    return Object.defineProperty(f, 'part', { get: () => { partReads++; return p.part; } });
  });
  const data = messageData({ mailbox: 'INBOX', uidValidity: 1, uid: 1, seq: 1, envelope: null, size: null, internalDate: null, parts, structureFrom: 'BODYSTRUCTURE', fetches });
  assert.ok(data.parts.every((p, i) => p.fetches.length === 1 && p.fetches[0]!.section === String(i + 1) && !p.notFetched));
  assert.ok(partReads <= 8 * fetches.length, `${partReads} reads of the fetches' parts (a few each, not one per part)`);
});
