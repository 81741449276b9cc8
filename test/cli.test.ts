/** The command line as users and CI meet it: real child processes, real captures, exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { rebuildError, serializeError } from '../src/parallel/tasks.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CAPTURES, CLI } from './helpers/env.js';

function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'buffer', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout };
}

const seed = join(CAPTURES, 'seed-alice.pcap');

test('summary --json answers the seed question: two connections at once, the third after the first ended', () => {
  const r = run(['summary', '--json', seed]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.concurrency.max, 2);
  assert.equal(j.connections.length, 3);
  const [a, b, c] = j.connections;
  const overlaps = new Map(j.concurrency.overlaps.map((o: { conn: number; with: number[] }) => [o.conn, o.with]));
  assert.deepEqual(overlaps.get(a.id), [b.id], 'the first two overlap, and the first overlaps nothing else');
  assert.ok(!(overlaps.get(c.id) as number[]).includes(a.id), 'the third does not overlap the first');
  assert.ok(c.start > a.end, 'the third started after the first ended (same-format ISO strings compare in time order)');
  for (const conn of j.connections) {
    assert.equal(conn.user, 'alice');
    assert.deepEqual(conn.clientId, { name: 'SeedMail', version: '1.0' });
    assert.equal(conn.cleartextAuth, true);
    assert.ok(conn.commands > 5);
  }
  // LIST answers, with the modified UTF-7 name decoded and the special-use flag kept.
  const drafts = a.mailboxes.find((m: { name: string }) => m.name === 'Entwürfe');
  assert.ok(drafts?.flags.includes('\\Drafts'), JSON.stringify(a.mailboxes));
  assert.equal(a.serverSoftware, 'Dovecot');
  const login = j.commands.find((s: { command: string }) => s.command === 'LOGIN');
  assert.equal(login.count, 3);
  assert.equal(login.ok, 3);
});

test('commands --json: exchanges in request order with frames, latency and the UID prefix; passwords redacted', () => {
  const r = run(['commands', '--json', seed]);
  assert.equal(r.code, 0, r.stderr);
  const { exchanges } = JSON.parse(r.stdout);
  const frames = exchanges.map((e: { requestFrame: number }) => e.requestFrame);
  assert.deepEqual(frames, [...frames].sort((x, y) => x - y));
  const login = exchanges.find((e: { command: string }) => e.command === 'LOGIN');
  assert.match(login.args, /^"?alice"? \*\*\*$/);
  assert.ok(!r.stdout.includes('alice-pw'), 'no password in the output');
  const fetch = exchanges.find((e: { command: string }) => e.command === 'UID FETCH');
  assert.ok(fetch.responseFrame > fetch.requestFrame);
  assert.ok(fetch.latencyMs >= 0);
  const shown = run(['commands', '--json', '--show-secrets', '--command', 'login', seed]);
  assert.ok(shown.stdout.includes('alice-pw'), '--show-secrets shows it');
  assert.equal(JSON.parse(shown.stdout).exchanges.length, 3);
});

test('follow --raw writes exactly the reassembled bytes; the transcript folds literals and hides the password', () => {
  const truth = readFileSync(join(CAPTURES, 'seed-alice', JSON.parse(readFileSync(join(CAPTURES, 'seed-alice', 'manifest.json'), 'utf8')).connections[1].toClient));
  const raw = run(['follow', seed, '--conn', '1', '--raw', '--side', 'server']);
  assert.equal(raw.code, 0);
  assert.ok(raw.raw.equals(truth));
  const t = run(['follow', seed, '--conn', '1']);
  assert.equal(t.code, 0);
  assert.match(t.stdout, /C: \S+ LOGIN "?alice"? \*\*\*/);
  assert.match(t.stdout, /\{\d+ bytes\}/);
  assert.ok(!t.stdout.includes('alice-pw'));
});

test('gzip and stdin are read like the file itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-cli-'));
  try {
    const gz = join(dir, 'seed.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(seed)));
    const plain = JSON.parse(run(['streams', '--json', seed]).stdout).connections;
    assert.deepEqual(JSON.parse(run(['streams', '--json', gz]).stdout).connections, plain);
    assert.deepEqual(JSON.parse(run(['streams', '--json', '-'], readFileSync(seed)).stdout).connections, plain);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input and bad usage: one clear line, exit 2, never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-cli-'));
  try {
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture at all');
    const cases: [string[], RegExp][] = [
      [['summary', join(dir, 'missing.pcap')], /no such file/],
      [['summary', junk], /not a pcap or pcapng capture/],
      [['summary', dir], /directory/],
      [['streams', '--port', '99999', seed], /not a TCP port/],
      [['follow', seed, '--conn', '7'], /no IMAP connection with id 7/],
      [['follow', seed, '--conn', 'x'], /not a whole number/],
      [['frobnicate'], /unknown command/],
      [['summary'], /missing required argument/],
      [['commands', seed, '--bogus'], /unknown option/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    // A truncated capture is not an error: what is there is reported, with a warning.
    const cut = join(dir, 'cut.pcap');
    const whole = readFileSync(seed);
    writeFileSync(cut, whole.subarray(0, whole.length - 100));
    const r = run(['summary', '--json', cut]);
    assert.equal(r.code, 0);
    assert.ok(JSON.parse(r.stdout).warnings.some((w: { message: string }) => /truncated/.test(w.message)));
    assert.equal(run(['--help']).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wire bytes are escaped before they reach a terminal', async () => {
  const { escapeText } = await import('../src/util/escape.js');
  assert.equal(escapeText('a\x1b[31mred\x07\r\n'), 'a\\x1b[31mred\\x07\\r\\n');
  assert.equal(escapeText('Entwürfe'), 'Entwürfe');
});

test('--ndjson streams: the first exchange is written before the capture has been read to the end', { timeout: 60_000 }, async (t) => {
  const { spawn } = await import('node:child_process');
  const whole = readFileSync(seed);
  const child = spawn(process.execPath, [CLI, 'commands', '--ndjson', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  // Output held back until the input ends would leave the child waiting for us and us for it.
  t.after(() => child.kill());
  const firstLine = new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
  });
  // Send the first two thirds and hold the rest back until a line has come out.
  child.stdin.write(whole.subarray(0, Math.floor((whole.length * 2) / 3)));
  const line = await firstLine;
  assert.equal(JSON.parse(line).command, 'CAPABILITY');
  assert.equal(child.exitCode, null, 'still running: the rest of the capture has not been sent');
  child.stdin.end(whole.subarray(Math.floor((whole.length * 2) / 3)));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
});

test('summary says in one line when nothing could be read: TLS without keys, or no IMAP on the ports (naming the ports seen)', () => {
  const tls = spawnSync(process.execPath, [CLI, 'summary', join(CAPTURES, 'imaps-tls13.pcap')], { encoding: 'utf8' });
  assert.equal(tls.status, 0, tls.stderr);
  assert.match(tls.stdout.split('\n')[1]!, /^the IMAP connection is TLS-encrypted and could not be read: give the client's TLS key log with --keylog/);
  const decrypted = spawnSync(process.execPath, [CLI, 'summary', '--json', '--keylog', join(CAPTURES, 'imaps-tls13.keys'), join(CAPTURES, 'imaps-tls13.pcap')], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(decrypted.stdout).visibility, { imapConnections: 1, encrypted: 0, encryptedWithKeys: 0, notice: null });
  const wrongPort = spawnSync(process.execPath, [CLI, 'summary', '--port', '8143', join(CAPTURES, 'seed-alice.pcap')], { encoding: 'utf8' });
  assert.equal(wrongPort.status, 0, wrongPort.stderr);
  assert.match(wrongPort.stdout, /no IMAP traffic on port 8143; the TCP server ports seen most: 143 \(3 conversations\)\. If the server listens elsewhere, name its port with --port/);
  const fetches = spawnSync(process.execPath, [CLI, 'fetches', join(CAPTURES, 'imaps-tls13.pcap')], { encoding: 'utf8' });
  assert.match(fetches.stdout, /TLS-encrypted and could not be read/);
});

test('--keylog decrypts in every command that reads a capture in the main thread: follow, extract, report, -w', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-keylog-cli-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    const tls13 = ['--keylog', join(CAPTURES, 'imaps-tls13.keys'), join(CAPTURES, 'imaps-tls13.pcap')];
    const tls12 = ['--keylog', join(CAPTURES, 'starttls-tls12.keys'), join(CAPTURES, 'starttls-tls12.pcap')];
    const follow = run('follow', '--conn', '0', ...tls13);
    assert.equal(follow.status, 0, follow.stderr);
    assert.match(follow.stdout, /T1 LOGIN alice/);
    const extract = run('extract', '--out', join(dir, 'parts'), ...tls12);
    assert.equal(extract.status, 0, extract.stderr);
    assert.ok(existsSync(join(dir, 'parts', 'INBOX-uid1.eml')), extract.stdout);
    const report = run('report', '-o', join(dir, 'page.html'), ...tls13);
    assert.equal(report.status, 0, report.stderr);
    assert.match(readFileSync(join(dir, 'page.html'), 'utf8'), /"command":"LOGIN"/);
    // -w picks the connections the filter names by what only decryption shows (the user LOGIN names).
    const written = run('commands', '-Y', 'imap.user == "alice"', '-w', join(dir, 'login.pcap'), '--force', ...tls13);
    assert.equal(written.status, 0, written.stderr);
    assert.match(written.stderr, /wrote [1-9]\d* frame\(s\) of 1 connection\(s\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('follow: lines stand in the order they crossed the wire (a "+" before the literal it asked for); a refused literal says so', () => {
  const r = spawnSync(process.execPath, [CLI, 'follow', join(CAPTURES, 'append-idle.pcap'), '--conn', '0'], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  assert.equal(r.status, 0, r.stderr);
  const frames = r.stdout.trim().split('\n').map((l) => Number(l.slice(0, 6)));
  assert.deepEqual(frames, [...frames].sort((a, b) => a - b), 'frame numbers never go back');
  const lines = r.stdout.split('\n');
  const append = lines.findIndex((l) => /C: X3 APPEND/.test(l));
  assert.match(lines[append + 1]!, /^ +22 .* S: \+ OK$/);
  assert.ok(lines.some((l) => /C: X5 APPEND NoSuchFolder \{275 bytes, not sent: the server refused the literal\}$/.test(l)));
});

test('a full disk is not a bug: one line saying there is no room, exit 74; an error from a worker thread keeps its code', { skip: existsSync('/dev/full') ? false : 'no /dev/full (it is on Linux)' }, () => {
  const NO_ROOM = /^imapscope: no room left to write \(ENOSPC: no space left on device, write\): free some where the output goes, or set TMPDIR to a directory with room .*\n$/;
  const full = openSync('/dev/full', 'w');
  try {
    for (const args of [['commands', '--json', join(CAPTURES, 'mbsync.pcap')], ['summary', join(CAPTURES, 'mbsync.pcap')], ['summary', '--jobs', '2', join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'offlineimap.pcapng')]]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', full, 'pipe'] });
      assert.equal(r.status, 74, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, NO_ROOM, args.join(' '));
    }
  } finally {
    closeSync(full);
  }
  // Thrown in a worker thread, the error keeps its code across.
  const crossed = rebuildError(serializeError(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })));
  assert.equal((crossed as NodeJS.ErrnoException).code, 'ENOSPC');
});
