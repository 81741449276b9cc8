/** compare on real recordings: the same client with two accounts is the same behaviour; two clients are not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES, CLI, ROOT } from './helpers/env.js';
import { align, AlignedRows } from '../src/compare/align.js';
import { validate } from './helpers/json-schema.js';
import { seededRandom } from './helpers/random.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'compare.schema.json'), 'utf8'));

function compare(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'compare', '--json', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, json: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

test('one client, two accounts (alice, bob): the same behaviour', () => {
  const r = compare('--expect-same', join(CAPTURES, 'seed-alice.pcap'), join(CAPTURES, 'seed-bob.pcap'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(validate(r.json, schema), []);
  assert.equal(r.json.same, true);
  assert.deepEqual(r.json.differences, []);
  const [a, b] = r.json.profiles;
  assert.equal(a.connections.length, 3);
  assert.notDeepEqual(a.bytes, b.bytes, 'bytes differ with the account, and do not count');
  assert.ok(a.connections.some((c: { commands: string[] }) => c.commands.includes('LOGIN <user> <password>')), 'users and passwords abstracted');
  assert.ok(a.connections.some((c: { commands: string[] }) => c.commands.includes('SELECT "Entw&APw-rfe"')), 'mailbox names kept');
});

test('mbsync and offlineimap on the same mailbox: different, and the differences are named', () => {
  const r = compare('--expect-same', join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'offlineimap.pcapng'));
  assert.equal(r.code, 1, 'exit 1 with --expect-same when they differ');
  assert.deepEqual(validate(r.json, schema), []);
  assert.equal(r.json.same, false);
  const what = new Map(r.json.differences.map((d: { what: string; a: unknown; b: unknown }) => [d.what, d]));
  assert.deepEqual([(what.get('number of connections') as { a: number }).a, (what.get('number of connections') as { b: number }).b], [1, 3]);
  const ext = what.get('extensions used') as { a: string[]; b: string[] };
  assert.ok(ext.a.includes('COMPRESS') && !ext.b.includes('COMPRESS'), 'mbsync compresses, offlineimap does not');
  assert.deepEqual((what.get('authentication') as { a: string[]; b: string[] }).b, ['PLAIN']);
  assert.ok(r.json.differences.some((d: { what: string }) => /commands$/.test(d.what)));
});

test('compare by capture needs two different captures: said before any is read (exit 2)', () => {
  // The file is missing: had it been read, the error would name that.
  const missing = join(CAPTURES, 'no-such-capture.pcap');
  const twice = compare(missing, missing);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /^imapscope: compare: .*no-such-capture\.pcap is named twice; name two different captures, or one with --by client-ip \/ --by user/);
  const one = compare(missing);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /^imapscope: compare needs two captures, or one with --by client-ip \/ --by user; got 1/);
});

test('--by user needs two users; one capture of one user is a usage error (exit 2)', () => {
  const r = compare('--by', 'user', join(CAPTURES, 'seed-alice.pcap'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /at least two profiles/);
  const two = compare('--by', 'user', join(CAPTURES, 'seed-alice.pcap'), join(CAPTURES, 'seed-bob.pcap'));
  assert.equal(two.code, 0);
  assert.deepEqual(two.json.profiles.map((p: { label: string }) => p.label), ['alice', 'bob']);
  assert.equal(two.json.same, true);
});

test('--by user across captures keeps each connection\'s own commands (ids repeat between captures)', () => {
  const alice = join(CAPTURES, 'seed-alice.pcap');
  const bob = join(CAPTURES, 'seed-bob.pcap');
  const single = compare(alice, bob).json.profiles[0].connections.map((c: { commands: string[] }) => c.commands.length).sort();
  const r = compare('--by', 'user', alice, bob, alice, bob);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.same, true);
  for (const p of r.json.profiles) {
    assert.equal(p.connections.length, 6);
    const counts = p.connections.map((c: { commands: string[] }) => c.commands.length).sort();
    assert.deepEqual(counts, [...single, ...single].sort());
  }
});

test('align: a shortest edit script — the common rows equal the longest common subsequence (random sequences)', () => {
  const random = seededRandom(7);
  const lcs = (a: string[], b: string[]) => {
    const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
    return dp[a.length]![b.length]!;
  };
  for (let round = 0; round < 300; round++) {
    const seq = () => Array.from({ length: Math.floor(random() * 12) }, () => 'ABCD'[Math.floor(random() * 4)]!);
    const a = seq();
    const b = seq();
    const aligned = align(a, b);
    const rows = [...aligned];
    assert.equal(rows.filter((r) => r.mark === 'same').length, lcs(a, b), `${a.join('')} / ${b.join('')}`);
    assert.deepEqual(rows.filter((r) => r.a !== null).map((r) => r.a), a, 'every row of a, in order');
    assert.deepEqual(rows.filter((r) => r.b !== null).map((r) => r.b), b, 'every row of b, in order');
    // A row's sides follow from its mark: both for same (equal) and changed, one for a row only in a or only in b.
    for (const r of rows) {
      if (r.mark === 'same') assert.equal(r.a, r.b);
      assert.equal(r.a !== null, r.mark !== 'onlyB', JSON.stringify(r));
      assert.equal(r.b !== null, r.mark !== 'onlyA', JSON.stringify(r));
    }
    // What the rows are read by (a pair's sentence, the folded text) says the same as the rows.
    assert.equal(aligned.length, rows.length);
    rows.forEach((r, i) => {
      assert.deepEqual(aligned.row(i), r);
      assert.equal(aligned.mark(i), r.mark);
    });
    for (const mark of ['same', 'changed', 'onlyA', 'onlyB'] as const) {
      assert.equal(aligned.count(mark), rows.filter((r) => r.mark === mark).length, mark);
      assert.deepEqual(aligned.firstWith(mark, 2), rows.filter((r) => r.mark === mark).slice(0, 2), mark);
    }
    // A connection with no partner: its commands alone, on its side.
    assert.deepEqual([...AlignedRows.oneSided(a, 'a')], a.map((x) => ({ mark: 'onlyA', a: x, b: null })));
    assert.deepEqual([...AlignedRows.oneSided(b, 'b')], b.map((y) => ({ mark: 'onlyB', a: null, b: y })));
    assert.equal(AlignedRows.oneSided(b, 'b').count('onlyB'), b.length);
  }
});

test('compare text reads like diff -y: connections paired by what they do, marks for changed / only here, differences in sentences', () => {
  const r = spawnSync(process.execPath, [CLI, 'compare', join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'offlineimap.pcapng')], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!/\{"count"/.test(r.stdout), 'no raw JSON in the text view');
  const lines = r.stdout.split('\n');
  assert.ok(lines.includes('pair 1 of 3, the connection that fetches and lists: a conn 0 (25 commands) ↔ b conn 0 (19 commands), 32% alike'), r.stdout);
  assert.ok(lines.some((l) => /^LIST "" "\*" +LIST "" "\*"$/.test(l)), 'a common command stands on both sides with no mark');
  assert.ok(lines.some((l) => /^LOGIN <user> <password> +\| CAPABILITY$/.test(l)), 'a changed command is marked |');
  assert.ok(lines.some((l) => /^ +> LIST "" ""$/.test(l)), 'a command only in b is marked >');
  assert.ok(lines.some((l) => /^SELECT "Archive" +<$/.test(l)), 'a command only in a is marked <');
  assert.ok(lines.includes('  - a authenticates with LOGIN, b with PLAIN.'));
  assert.ok(lines.includes('  - b opens a connection that fetches (conn 1, 12 commands) with no counterpart in a.'));
  // The summary table's count of FETCH commands is the commands', as summary counts them.
  const summary = JSON.parse(spawnSync(process.execPath, [CLI, 'summary', '--json', join(CAPTURES, 'mbsync.pcap')], { encoding: 'utf8' }).stdout);
  const fetchCount = summary.commands.filter((c: { command: string }) => /FETCH$/.test(c.command)).reduce((n: number, c: { count: number }) => n + c.count, 0);
  assert.ok(lines.some((l) => new RegExp(`FETCH commands +│ ${fetchCount} +│`).test(l)), `FETCH commands ${fetchCount}`);
});

test('compare JSON: pairs with aligned rows; the pairing follows behaviour, not connection order', () => {
  const r = compare(join(CAPTURES, 'seed-alice.pcap'), join(CAPTURES, 'seed-bob.pcap'));
  const pairs = r.json.comparisons[0].pairs as { a: number; b: number; similarity: number; rows: { mark: string }[] }[];
  assert.equal(pairs.length, 3);
  for (const p of pairs) {
    assert.equal(p.a, p.b, 'the same client opens the same connections in the same roles');
    assert.equal(p.similarity, 1);
    assert.ok(p.rows.every((row) => row.mark === 'same'));
  }
});

test('compare says what it could not read: a truncated capture\'s warning names the capture and the frame', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-compare-'));
  try {
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(join(CAPTURES, 'seed-alice.pcap')).subarray(0, 20_000));
    const r = compare(cut, join(CAPTURES, 'seed-bob.pcap'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: .*cut\.pcap, frame 99: file is truncated: the last 461 bytes do not hold a whole record; frames up to 98 were read$/m);
    assert.equal(r.json.profiles.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('many connections: the profile table counts commands per connection by how many had each number, and what was the same is listed to 12 aspects (all with --full)', async () => {
  const { commandCounts, LISTED_COMMAND_COUNTS, LISTED_SAME } = await import('../src/report/compare.js');
  assert.equal(commandCounts([25, 19, 3]), '25 / 19 / 3');
  const few = Array.from({ length: LISTED_COMMAND_COUNTS }, (_, i) => i % 3);
  assert.equal(commandCounts(few), few.join(' / '));
  const many = [...Array.from({ length: 6600 }, () => 6), ...Array.from({ length: 52 }, () => 5), 9, 9, 4, 4];
  assert.equal(commandCounts(many), '6 (×6600) / 5 (×52) / 4 (×2) / 9 (×2)');
  // On a capture of 20 sessions the table's lines stay short.
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-compare-many-'));
  try {
    const { generateScaleCapture } = await import('../bench/scale-captures.js');
    const path = join(dir, 'closed.pcap');
    const other = join(dir, 'closed-again.pcap');
    await generateScaleCapture('closed', 20, path);
    await generateScaleCapture('closed', 21, other); // one connection more: a difference, and 20 pairs the same
    const r = spawnSync(process.execPath, [CLI, 'compare', path, other], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.includes('commands per connection'))!;
    assert.match(line, /│ 4 \(×20\) +│ 4 \(×21\) +│/);
    assert.ok(line.length < 200, line);
    // What was the same: the first 12 aspects and a count (two per pair of connections here); --full lists every one.
    const same = r.stdout.split('\n').find((l) => l.startsWith('  The same: '))!;
    assert.equal(same.split('; ').length, LISTED_SAME + 1, same);
    assert.match(same, /; and \d+ more \(--full or --json lists every one\)\.$/);
    const full = spawnSync(process.execPath, [CLI, 'compare', '--full', path, other], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    const all = full.stdout.split('\n').find((l) => l.startsWith('  The same: '))!;
    const json = spawnSync(process.execPath, [CLI, 'compare', '--json', path, other], { encoding: 'utf8' });
    const aspects = (JSON.parse(json.stdout) as { comparisons: { sameAspects: string[] }[] }).comparisons[0]!.sameAspects;
    assert.ok(aspects.length > LISTED_SAME);
    assert.equal(all, `  The same: ${aspects.join('; ')}.`);
    assert.ok(same.startsWith(`  The same: ${aspects.slice(0, LISTED_SAME).join('; ')}; and ${aspects.length - LISTED_SAME} more`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
