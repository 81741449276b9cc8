/**
 * The command line in ordinary terminal use: a closed pipe, Ctrl-C, colour, tables that fit, progress,
 * usage and internal errors. Child processes on the recorded captures; a real terminal through tmux.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import stringWidth from 'string-width';
import { CAPTURES, CLI, ROOT, hasTmux, unavailable, NO_TMUX } from './helpers/env.js';
import { validate } from './helpers/json-schema.js';
import { FitTable, layoutColumns, setTableWidth, tableWidth } from '../src/report/table.js';
import { colourLevel, wantsProgress } from '../src/cli/output.js';
import { ProgressLine, progressText } from '../src/cli/progress.js';

const cap = (name: string) => join(CAPTURES, name);
const seed = cap('seed-alice.pcap');
const PLAIN = { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined, CI: undefined };
const ESC = '\x1b[';

/** Code run before the CLI starts, through Node's --import: how a test injects a fault or watches. */
const inject = (code: string) => ['--import', `data:text/javascript,${encodeURIComponent(code)}`];

function run(args: string[], env: NodeJS.ProcessEnv = PLAIN, input?: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function start(args: string[], nodeArgs: string[] = []): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...nodeArgs, CLI, ...args], { env: PLAIN, stdio: ['pipe', 'pipe', 'pipe'] });
}

function finished(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

/** Like `imapscope … | true`: the reader of stdout is gone before the command writes its first byte. */
async function withClosedStdout(args: string[], input?: Buffer) {
  const child = start(args);
  child.stdout.destroy();
  const done = finished(child);
  child.stdin.end(input);
  return done;
}

// ---------------------------------------------------------------------------------------- closed pipe

test('a closed output pipe ends every command and format quietly with exit 0 (never EPIPE, never 70)', { timeout: 120_000 }, async () => {
  const two = [seed, cap('offlineimap.pcapng')];
  const cases: string[][] = [
    ['summary', ...two], ['summary', '--json', ...two],
    ['commands', ...two], ['commands', '--json', ...two], ['commands', '--ndjson', ...two],
    ['fetches', ...two], ['fetches', '--json', ...two], ['fetches', '--ndjson', ...two],
    ['streams', ...two], ['streams', '--json', ...two],
    ['compare', ...two], ['compare', '--json', ...two],
    ['check', '--max-connections', '9', ...two], ['check', '--json', '--max-connections', '9', ...two],
    ['follow', cap('fetchmail.pcap'), '--conn', '0'], ['follow', cap('fetchmail.pcap'), '--conn', '0', '--raw', '--side', 'server'],
  ];
  for (const args of cases) {
    const r = await withClosedStdout(args);
    assert.deepEqual({ code: r.code, signal: r.signal, stderr: r.stderr }, { code: 0, signal: null, stderr: '' }, args.slice(0, 2).join(' '));
  }
  // A failing check keeps its own exit code 1 (the check's verdict, not an error), still without noise.
  const check = await withClosedStdout(['check', '--forbid-command', 'LOGIN', '--annotate', ...two]);
  assert.deepEqual({ code: check.code, stderr: check.stderr }, { code: 1, stderr: '' });
  // Standard input too.
  for (const format of ['--ndjson', '--json']) {
    const stdin = await withClosedStdout(['commands', format, '-'], readFileSync(cap('offlineimap.pcapng')));
    assert.deepEqual({ code: stdin.code, stderr: stdin.stderr }, { code: 0, stderr: '' });
  }
});

test('a closed output pipe stops the reading: the command ends although its standard input never does', { timeout: 60_000 }, async () => {
  const whole = readFileSync(cap('offlineimap.pcapng'));
  const child = start(['commands', '--ndjson', '-']);
  const done = finished(child);
  const half = Math.floor(whole.length / 2);
  child.stdin.write(whole.subarray(0, half));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  // The rest brings more exchanges, whose writes meet the closed pipe; stdin is never ended, so only
  // stopping the read lets the process end (else this test runs into its timeout).
  child.stdin.write(whole.subarray(half));
  const r = await done;
  child.stdin.destroy();
  assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 0, stderr: '' });
});

// ---------------------------------------------------------------------------------------------- Ctrl-C

/**
 * Test instrumentation, loaded with --import: report on stderr how many bytes of stdin the CLI has taken.
 * A chunk is processed synchronously once taken, so a Ctrl-C handled after the report comes after it.
 */
const COUNT_STDIN = `
  const iterate = process.stdin[Symbol.asyncIterator].bind(process.stdin);
  let taken = 0;
  process.stdin[Symbol.asyncIterator] = () => {
    const it = iterate();
    return {
      async next() { const r = await it.next(); if (!r.done) { taken += r.value.length; process.stderr.write('taken ' + taken + '\\n'); } return r; },
      return: (v) => it.return(v), throw: (e) => it.throw(e), [Symbol.asyncIterator]() { return this; },
    };
  };`;

/** Feed the first `bytes` of a capture on stdin (never ending it), wait until the CLI has taken them all, press Ctrl-C. */
async function interruptAfter(args: string[], capture: string, bytes: number) {
  const child = start(args, inject(COUNT_STDIN));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  const taken = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const counts = [...stderr.matchAll(/^taken (\d+)$/gm)].map((m) => Number(m[1]));
    if (counts.length && counts[counts.length - 1]! >= bytes) resolve();
  }));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  child.stdin.write(readFileSync(capture).subarray(0, bytes));
  await taken;
  child.kill('SIGINT');
  const r = await closed;
  child.stdin.destroy();
  return { ...r, stdout, stderr: stderr.replace(/^taken \d+\n/gm, '') };
}

test('Ctrl-C while reading stdin: what was gathered is reported, marked partial, exit 130', { timeout: 60_000 }, async () => {
  const capture = cap('offlineimap.pcapng');
  const full = JSON.parse(run(['summary', '--json', capture]).stdout);
  const schema = (name: string) => JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', `${name}.schema.json`), 'utf8'));

  const json = await interruptAfter(['summary', '--json', '-'], capture, 150_000);
  assert.equal(json.code, 130, json.stderr);
  const j = JSON.parse(json.stdout);
  assert.equal(j.partial, true);
  assert.deepEqual(validate(j, schema('summary')), []);
  assert.ok(j.connections.length >= 1, 'the connections read before Ctrl-C are there');
  assert.ok(j.captures[0].frames > 0 && j.captures[0].frames < full.captures[0].frames, `${j.captures[0].frames} of ${full.captures[0].frames} frames`);
  assert.match(json.stderr, /^imapscope: partial: interrupted while reading stdin \(\d+ frames read\)/);

  const text = await interruptAfter(['summary', '-'], capture, 150_000);
  assert.equal(text.code, 130);
  assert.match(text.stdout, /Concurrency: at most \d IMAP connection/);
  assert.match(text.stdout, /\npartial: interrupted while reading stdin \(\d+ frames read\); only what was read before Ctrl-C is reported\n$/);

  const nd = await interruptAfter(['commands', '--ndjson', '-'], capture, 150_000);
  assert.equal(nd.code, 130);
  const lines = nd.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length >= 1 && lines.length < full.commands.reduce((n: number, c: { count: number }) => n + c.count, 0));
  assert.ok(lines.every((l) => typeof l.command === 'string'), 'NDJSON stays one exchange per line; the mark is on stderr');
  assert.match(nd.stderr, /partial: interrupted/);

  const streamed = await interruptAfter(['commands', '--json', '-'], capture, 150_000);
  assert.equal(streamed.code, 130);
  const sj = JSON.parse(streamed.stdout);
  assert.equal(sj.partial, true);
  assert.deepEqual(validate(sj, schema('commands')), []);
});

// ---------------------------------------------------------------------------------------------- colour

test('colour: never in a pipe unless forced; --color, --no-color, NO_COLOR and FORCE_COLOR; NO yellow, BAD red, incomplete dim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-term-'));
  try {
    const args = ['commands', cap('append-idle.pcap')];
    assert.ok(!run(args).stdout.includes(ESC), 'a pipe gets no colour');
    assert.ok(!run(args, { ...PLAIN, NO_COLOR: '1', FORCE_COLOR: '0' }).stdout.includes(ESC));
    for (const [flags, env] of [[['--color', 'always'], PLAIN], [['--color'], PLAIN], [[], { ...PLAIN, FORCE_COLOR: '1' }], [['--color=always'], { ...PLAIN, NO_COLOR: '1' }]] as const) {
      const out = run([...args, ...flags], env).stdout;
      assert.ok(out.includes(`${ESC}31mBAD${ESC}39m`), `${flags.join(' ')}: BAD is red`);
      assert.ok(out.includes(`${ESC}33mNO${ESC}39m`), `${flags.join(' ')}: NO is yellow`);
    }
    for (const flags of [['--no-color'], ['--color', 'never'], ['--color=never']]) {
      assert.ok(!run([...args, ...flags], { ...PLAIN, FORCE_COLOR: '3' }).stdout.includes(ESC), `${flags.join(' ')} beats FORCE_COLOR`);
    }
    // A capture cut short leaves commands without their answer: "incomplete", dim.
    const cut = join(dir, 'cut.pcap');
    const whole = readFileSync(seed);
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    assert.ok(run(['commands', cut, '--color', 'always']).stdout.includes(`${ESC}2mincomplete${ESC}22m`));
    const bad = run(['commands', cap('append-idle.pcap'), '--color', 'sometimes']);
    assert.equal(bad.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('colourLevel: the flag, then FORCE_COLOR, then NO_COLOR, then whether stdout is a terminal', () => {
  const tty = 8; // getColorDepth() of a 256-colour terminal
  assert.equal(colourLevel('auto', {}, tty), 2);
  assert.equal(colourLevel('auto', {}, 24), 3);
  assert.equal(colourLevel('auto', {}, 1), 0, 'a terminal without colours (TERM=dumb)');
  assert.equal(colourLevel('auto', {}, null), 0, 'not a terminal');
  assert.equal(colourLevel('auto', { NO_COLOR: '1' }, tty), 0);
  assert.equal(colourLevel('auto', { NO_COLOR: '' }, tty), 2, 'an empty NO_COLOR does not count (no-color.org)');
  assert.equal(colourLevel('auto', { FORCE_COLOR: '1' }, null), 1);
  assert.equal(colourLevel('auto', { FORCE_COLOR: '3' }, null), 3);
  assert.equal(colourLevel('auto', { FORCE_COLOR: '' }, null), 1);
  assert.equal(colourLevel('auto', { FORCE_COLOR: '0' }, tty), 0);
  assert.equal(colourLevel('auto', { FORCE_COLOR: 'false' }, tty), 0);
  assert.equal(colourLevel('auto', { FORCE_COLOR: '1', NO_COLOR: '1' }, null), 1, 'FORCE_COLOR wins over NO_COLOR, as in Node');
  assert.equal(colourLevel('always', { NO_COLOR: '1' }, null), 1);
  assert.equal(colourLevel('always', {}, 24), 3);
  assert.equal(colourLevel('never', { FORCE_COLOR: '3' }, 24), 0);
});

// ----------------------------------------------------------------------------------------------- tables

/** The rows `commands` prints for a capture, from its real output. */
function commandsTable(capture: string): FitTable {
  const lines = run(['commands', '--ndjson', capture]).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const table = new FitTable([{ head: 'frame' }, { head: 'command', shrink: 1 }, { head: 'arguments', shrink: 2 }, { head: 'response', shrink: 3 }, { head: 'latency' }]);
  for (const e of lines) table.push([e.requestFrame, e.command, e.args, (e.code ? `[${e.code}] ` : '') + e.text, `${e.latencyMs.toFixed(1)} ms`]);
  return table;
}

test('layoutColumns: the highest shrink priority gives way first, never below its minimum; null width cuts nothing', () => {
  const natural = [4, 10, 40, 60, 8];
  const shrink = [0, 1, 2, 3, 0];
  assert.deepEqual(layoutColumns(natural, shrink, null), { widths: natural, framed: true });
  assert.deepEqual(layoutColumns(natural, shrink, 250), { widths: natural, framed: true }, 'fits: nothing cut');
  const at120 = layoutColumns(natural, shrink, 120);
  assert.equal(tableWidth(at120), 120);
  assert.deepEqual(at120.widths.slice(0, 3), [4, 10, 40], 'only the response column (priority 3) gave way');
  const at80 = layoutColumns(natural, shrink, 80);
  assert.equal(tableWidth(at80), 80);
  assert.equal(at80.widths[3], 8, 'the response column is down to its minimum before the arguments shrink');
  assert.ok(at80.widths[2]! < 40 && at80.widths[2]! >= 8);
  assert.deepEqual([at80.widths[0], at80.widths[1], at80.widths[4]], [4, 10, 8], 'numbers and priority 1 untouched while others can give');
  // Too narrow for a frame even at the minimums: the frame goes, the columns are laid out again.
  const at40 = layoutColumns(natural, shrink, 40);
  assert.equal(at40.framed, false);
  assert.ok(tableWidth(at40) <= 40);
});

test('tables fit 80, 120 and 250 columns: no line wider than the screen, cut text ends in …, numbers right-aligned; --wide and pipes never cut', () => {
  const table = commandsTable(cap('mbsync.pcap'));
  try {
    setTableWidth(null);
    const natural = table.toString();
    const naturalWidth = Math.max(...natural.split('\n').map((l) => stringWidth(l)));
    assert.ok(naturalWidth > 250, 'the mbsync capability response makes the natural table wider than any screen here');
    assert.ok(!natural.includes('…'));
    for (const width of [80, 120, 250]) {
      setTableWidth(width);
      const lines = table.toString().split('\n');
      assert.ok(lines.every((l) => stringWidth(l) <= width), `${width}: ${Math.max(...lines.map((l) => stringWidth(l)))} columns`);
      assert.ok(lines.some((l) => l.includes('…')), `${width}: something was cut`);
      assert.equal(lines.length, natural.split('\n').length, `${width}: one line per row, as before`);
      // Right-aligned latency: the unit ends each row's last cell.
      const rows = lines.filter((l) => / ms\b/.test(l));
      assert.equal(rows.length, table.length);
      assert.ok(rows.every((l) => /\d ms( │)?$/.test(l)), `${width}: latency right-aligned`);
    }
    setTableWidth(250);
    assert.ok(table.toString().split('\n')[1]!.includes('UID FETCH') || table.toString().includes('LOGIN'), 'short cells are never cut');
  } finally {
    setTableWidth(null);
  }
  // Through the command line, stdout not a terminal: nothing is cut, even arguments and responses of 200+ characters.
  const piped = run(['commands', cap('mbsync.pcap')]).stdout;
  assert.ok(!piped.includes('…'));
  assert.match(piped, /\[CAPABILITY IMAP4rev1 [^│]* COMPRESS=DEFLATE\] Logged in/);
});

// ---------------------------------------------------------------------------------- a real terminal (tmux)

/** Run a shell command in a detached tmux pane of the given size; return the pane's text when it is done. */
async function inTmux(command: string, width: number, whileRunning?: (pane: () => string) => Promise<void>): Promise<string> {
  const socket = `imapscope-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  // The pane's shell inherits the environment of the tmux server, i.e. of this call: CI=true (set in CI) would turn
  // progress off, so the terminal gets the same plain environment as every other child here.
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: PLAIN });
  const marker = '__imapscope_done__';
  tmux('new-session', '-d', '-x', String(width), '-y', '100', '-s', 't', `${command}; echo ${marker}; sleep 600`);
  const pane = () => tmux('capture-pane', '-p', '-t', 't', '-S', '-').stdout;
  try {
    if (whileRunning) await whileRunning(pane);
    for (let i = 0; i < 600 && !pane().includes(marker); i++) await new Promise((r) => setTimeout(r, 100));
    const text = pane();
    assert.ok(text.includes(marker), `the command did not finish in the pane:\n${text}`);
    return text.slice(0, text.indexOf(marker));
  } finally {
    tmux('kill-server');
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

test('in a real 80-column terminal no table row wraps', { skip: unavailable(!hasTmux && NO_TMUX), timeout: 120_000 }, async () => {
  const capture = cap('mbsync.pcap');
  const exchanges = run(['commands', '--ndjson', capture]).stdout.trim().split('\n').length;
  const pane = await inTmux(`${shellQuote(process.execPath)} ${shellQuote(CLI)} commands ${shellQuote(capture)}`, 80);
  const lines = pane.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l !== '');
  // A row starts with its connection and frame; a wrapped row would leave a line that does not.
  const rows = lines.filter((l) => /^\s*│?\s*\d+\s+│?\s*\d+\s/.test(l));
  assert.equal(rows.length, exchanges, pane);
  assert.ok(lines.every((l) => stringWidth(l) <= 80));
  assert.ok(lines.every((l) => rows.includes(l) || /\bconn\b.*\bframe\b/.test(l) || /^[┌└]/.test(l)), `a line that is neither row, header nor frame:\n${pane}`);
  assert.ok(rows.some((l) => l.includes('…')), 'the long responses were cut to fit');
  // --wide: the same rows, uncut, wrapping as the terminal pleases.
  const wide = await inTmux(`${shellQuote(process.execPath)} ${shellQuote(CLI)} commands --wide ${shellQuote(capture)}`, 80);
  assert.ok(!wide.includes('…'));
});

test('in a real 80-column terminal the tables drawn by worker threads (--jobs 2) fit as those of one thread do', { skip: unavailable(!hasTmux && NO_TMUX), timeout: 120_000 }, async () => {
  const captures = ['mbsync.pcap', 'fetchmail.pcap'].map((c) => shellQuote(cap(c))).join(' ');
  for (const command of ['commands', 'fetches']) {
    const pane = (jobs: number) => inTmux(`${shellQuote(process.execPath)} ${shellQuote(CLI)} ${command} --jobs ${jobs} ${captures}`, 80);
    const one = await pane(1);
    assert.ok(one.includes('…'), `${command}: something was cut to fit:\n${one}`);
    assert.equal(await pane(2), one, command);
  }
});

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

test('in a real terminal NO_COLOR turns colour off; without it the terminal gets colour', { skip: unavailable(!hasScript && 'script (util-linux) is not installed') }, () => {
  const cmd = `${shellQuote(process.execPath)} ${shellQuote(CLI)} commands ${shellQuote(cap('append-idle.pcap'))}`;
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-tty-'));
  // script gives the command a pseudo-terminal and records exactly the bytes it wrote there.
  const onTerminal = (env: NodeJS.ProcessEnv) => {
    const out = join(dir, 'typescript');
    const r = spawnSync('script', ['-qc', cmd, out], { env: { ...PLAIN, TERM: 'xterm-256color', COLUMNS: '200', ...env }, stdio: 'ignore' });
    assert.equal(r.status, 0);
    return readFileSync(out, 'utf8');
  };
  try {
    const coloured = onTerminal({});
    assert.ok(coloured.includes(`${ESC}31mBAD`), coloured.slice(0, 400));
    const plain = onTerminal({ NO_COLOR: '1' });
    assert.match(plain, /│ BAD /);
    assert.ok(!plain.includes(`${ESC}31m`) && !plain.includes(`${ESC}36m`), 'no colour at all');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in a real terminal a slow input shows progress on stderr, and the line is gone when reading ends', { skip: unavailable(!hasTmux && NO_TMUX), timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-progress-'));
  try {
    const fifo = join(dir, 'in');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const whole = readFileSync(cap('offlineimap.pcapng'));
    let seen = '';
    const pane = await inTmux(`${shellQuote(process.execPath)} ${shellQuote(CLI)} commands --ndjson - < ${shellQuote(fifo)} > /dev/null`, 100, async (paneText) => {
      const { createWriteStream } = await import('node:fs');
      const w = createWriteStream(fifo);
      await new Promise<void>((resolve) => w.write(whole.subarray(0, 100_000), () => resolve()));
      // Hold the rest back until the progress line shows (it appears after a second of reading).
      for (let i = 0; i < 600 && !/reading stdin: /.test(paneText()); i++) await new Promise((r) => setTimeout(r, 100));
      seen = paneText();
      await new Promise<void>((resolve) => w.end(whole.subarray(100_000), () => resolve()));
    });
    assert.match(seen, /reading stdin: [\d.]+ KiB, [\d,]+ frames/);
    assert.ok(!/reading stdin/.test(pane), 'cleared at the end');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --------------------------------------------------------------------------------------------- progress

test('progress text: bytes, frames, and percent and time left when the size is known', () => {
  const base = { path: '/x/big.pcap', bytesRead: 50 * 1024 * 1024, frames: 1234567, done: false };
  assert.equal(progressText({ ...base, totalBytes: 200 * 1024 * 1024 }, 10_000), 'reading big.pcap: 50.0 MiB of 200.0 MiB (25%), 1,234,567 frames, 0:30 left');
  assert.equal(progressText({ ...base, path: '-', totalBytes: null }, 10_000), 'reading stdin: 50.0 MiB, 1,234,567 frames');
});

test('progress line: nothing for a short read, then one self-overwriting line, cleared at the end', () => {
  let now = 0;
  const written: string[] = [];
  const line = new ProgressLine({ write: (s) => { written.push(s); return true; }, columns: 80 }, () => now);
  const p = { path: 'a.pcap', bytesRead: 10, totalBytes: 100, frames: 5, done: false };
  line.update(p);
  now = 900;
  line.update(p);
  assert.deepEqual(written, [], 'under a second: nothing');
  now = 1000;
  line.update({ ...p, bytesRead: 50 });
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^\rreading a\.pcap: 50 B of 100 B \(50%\), 5 frames, 0:01 left\x1b\[K$/);
  now = 1100;
  line.update(p);
  assert.equal(written.length, 1, 'redrawn at most every 200 ms');
  line.update({ ...p, done: true });
  assert.equal(written.at(-1), '\r\x1b[K');
  now = 5000;
  line.update({ ...p, path: 'b.pcap' });
  assert.equal(written.length, 2, 'a new capture starts its own second of grace');
  line.update({ ...p, path: 'b.pcap', done: true });
});

test('progress only with stderr on a terminal, stdout not a pipe, outside CI and without -q', () => {
  const on = { stderrIsTTY: true, stdoutIsPipe: false, env: {}, quiet: false };
  assert.equal(wantsProgress(on), true);
  assert.equal(wantsProgress({ ...on, stderrIsTTY: false }), false);
  assert.equal(wantsProgress({ ...on, stdoutIsPipe: true }), false);
  assert.equal(wantsProgress({ ...on, env: { CI: 'true' } }), false);
  assert.equal(wantsProgress({ ...on, env: { CI: 'false' } }), true);
  assert.equal(wantsProgress({ ...on, quiet: true }), false);
});

// ------------------------------------------------------------------------------------- errors and exit codes

test('usage errors are one line ending with where the help is; typos get commander\'s suggestion on that line', () => {
  const cases: [string[], RegExp][] = [
    [['commands', seed, '--jsn'], /^imapscope: unknown option '--jsn' \(did you mean --json\?\); see 'imapscope commands --help'\n$/],
    [['comands', seed], /^imapscope: unknown command 'comands' \(did you mean commands\?\); see 'imapscope --help'\n$/],
    [['summary'], /^imapscope: missing required argument 'capture'; see 'imapscope summary --help'\n$/],
    [['streams', '--port', 'x', seed], /^imapscope: --port: 'x' is not a TCP port \(1-65535\); see 'imapscope streams --help'\n$/],
    [['summary', '--color', 'sometimes', seed], /^imapscope: option '--color \[when\]' argument 'sometimes' is invalid\. .*; see 'imapscope summary --help'\n$/],
  ];
  for (const [args, line] of cases) {
    const r = run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, line);
    assert.equal(r.stdout, '');
  }
});

test('a --conn that does not exist exits 2 everywhere, naming the connections there are', () => {
  for (const args of [
    ['commands', seed, '--conn', '9'], ['commands', seed, '--conn', '9', '--json'], ['commands', seed, '--conn', '9', '--ndjson'],
    ['fetches', seed, '--conn', '9'], ['fetches', seed, '--conn', '9', '--json'],
    ['follow', seed, '--conn', '9'], ['follow', seed, '--conn', '9', '--raw'],
  ]) {
    const r = run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, `imapscope: ${seed} has no IMAP connection with id 9; its IMAP connections are 0, 1, 2\n`);
    assert.equal(r.stdout, '', 'nothing half-written');
  }
  // And one that exists still works, in each.
  assert.equal(JSON.parse(run(['commands', seed, '--conn', '2', '--json']).stdout).exchanges.every((e: { conn: number }) => e.conn === 2), true);
  const fetches = JSON.parse(run(['fetches', seed, '--conn', '1', '--json']).stdout);
  assert.ok(fetches.messages.length > 0 && fetches.messages.every((m: { fetches: { conn: number }[] }) => m.fetches.every((f) => f.conn === 1)));
});

test('an internal error is one line and exit 70 (a stack only with IMAPSCOPE_DEBUG=1); an EPIPE error is exit 0', () => {
  const fault = inject("JSON.stringify = () => { throw new TypeError('injected fault'); };");
  const runWith = (nodeArgs: string[], args: string[], env: NodeJS.ProcessEnv = PLAIN, input?: Buffer) => {
    const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], { env, input, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const r = runWith(fault, ['summary', '--json', seed]);
  assert.equal(r.code, 70);
  assert.equal(r.stderr, 'imapscope: internal error: injected fault (please report this with the capture)\n');
  const debug = runWith(fault, ['summary', '--json', seed], { ...PLAIN, IMAPSCOPE_DEBUG: '1' });
  assert.equal(debug.code, 70);
  assert.match(debug.stderr, /\n\s+at /, 'the stack, for the developer who asked');
  // A write that fails with EPIPE (the reader is gone) is no error.
  const epipe = runWith(inject("process.stdout.write = () => { throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }); };"), ['summary', seed]);
  assert.deepEqual({ code: epipe.code, stderr: epipe.stderr }, { code: 0, stderr: '' });
});

test('an internal error outside the command\'s promise (a callback) is exit 70 too, not 1', { timeout: 60_000 }, async () => {
  // stdin stays open, so the command is still waiting for its capture when the callback throws.
  // The fault waits until the CLI is running (its handlers are in place), then throws from a timer.
  const child = start(['summary', '-'], inject(`const t = setInterval(() => {
    if (process.listenerCount('uncaughtException') === 0) return;
    clearInterval(t);
    throw new RangeError('injected in a callback');
  }, 1);`));
  const r = await finished(child);
  child.stdin.destroy();
  assert.equal(r.code, 70);
  assert.equal(r.stderr, 'imapscope: internal error: injected in a callback (please report this with the capture)\n');
});

test('Ctrl-C before compare has two captures: nothing compared, said calmly, exit 130 (not a usage error)', { timeout: 60_000 }, async () => {
  const r = await interruptAfter(['compare', '-', cap('seed-bob.pcap')], cap('offlineimap.pcapng'), 150_000);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /^imapscope: compare: interrupted with 1 of 2 captures read; nothing compared$/m);
  assert.doesNotMatch(r.stderr, /needs at least two profiles/);
});
