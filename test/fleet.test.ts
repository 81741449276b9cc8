/** export and sql: a dataset of many real captures, checked against what the per-capture views report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';
import { CAPTURES, CLI, NO_PUBLIC, PUBLIC, ROOT, hasPublic, unavailable } from './helpers/env.js';
import { cliJson, runCli } from './helpers/cli.js';
import { KeyLog } from '../src/tls/keylog.js';
import { TABLES, TABLE_NAMES } from '../src/fleet/tables.js';
import { withDuckDb, type DuckDBConnection } from '../src/fleet/duckdb.js';
import { DatasetWriter, tableSource } from '../src/fleet/dataset.js';
import { exportDataset } from '../src/fleet/export.js';
import { tcpConversation, writeCapture } from './helpers/synth.js';
import { seededInt } from './helpers/random.js';

/** Every recorded capture (the top-level files; the DSB variants live in sub-directories). */
const recorded = readdirSync(CAPTURES).filter((n) => /\.pcap(ng)?$/.test(n)).sort().map((n) => join(CAPTURES, n));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'imapscope-fleet-'));
}

type Counts = Map<string, number>;

/** Rows per capture of one table, through the sql command. */
function countsBy(dir: string, table: string): Counts {
  const rows = cliJson<{ capture: string; n: number }[]>(['sql', dir, `SELECT capture, count(*) AS n FROM ${table} GROUP BY capture`, '-T', 'json']);
  return new Map(rows.map((r) => [r.capture, r.n]));
}

/** Items of a multi-capture JSON view (each names its `capture` by path), counted per capture. */
function perCapture(items: { capture: string }[]): Counts {
  const m = new Map<string, number>();
  for (const it of items) m.set(it.capture, (m.get(it.capture) ?? 0) + 1);
  return m;
}

for (const format of ['parquet', 'ndjson'] as const) {
  test(`export --format ${format}: row counts equal what commands, streams and fetches report for the same captures`, { skip: unavailable(!hasPublic && NO_PUBLIC) }, () => {
    const paths = [...recorded, ...readdirSync(PUBLIC).filter((n) => !n.endsWith('.md') && !n.endsWith('.keys')).sort().map((n) => join(PUBLIC, n))];
    const out = join(tempDir(), 'ds');
    try {
      const r = runCli(['export', ...paths, '--out', out, '--format', format, '--jobs', '2']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`added ${paths.length} capture\\(s\\)`));

      const commands = cliJson(['commands', '--json', ...paths]);
      const streams = cliJson(['streams', '--json', ...paths]);
      const fetches = cliJson(['fetches', '--json', ...paths]);
      const sections = fetches.messages.flatMap((m: { capture: string; fetches: unknown[] }) => m.fetches.map(() => ({ capture: m.capture })));

      const expected: Record<string, Counts> = {
        exchanges: perCapture(commands.exchanges),
        connections: perCapture(streams.connections),
        fetches: perCapture(sections),
        warnings: perCapture(fetches.warnings),
      };
      assert.ok(expected.exchanges!.size > 20 && expected.fetches!.size > 10, 'the captures have exchanges and fetches to count');
      for (const [table, want] of Object.entries(expected)) {
        assert.deepEqual(countsBy(out, table), want, `${table} per capture`);
      }
      // The captures table: one row per file with its own counts, hash and size.
      const caps = cliJson(['sql', out, 'SELECT * FROM captures', '-T', 'json']);
      assert.deepEqual(caps.map((c: { capture: string }) => c.capture), paths, 'in argument order');
      const alice = caps.find((c: { capture: string }) => c.capture.endsWith('seed-alice.pcap'));
      assert.equal(alice.sha256, sha256(readFileSync(join(CAPTURES, 'seed-alice.pcap'))));
      assert.equal(alice.size, readFileSync(join(CAPTURES, 'seed-alice.pcap')).length);
      assert.equal(alice.format, 'pcap');
      assert.equal(alice.maxConcurrent, 2);
      assert.equal(alice.exchanges, expected.exchanges!.get(alice.capture));
      assert.match(alice.startTime, /^2026-11-28T\d\d:\d\d:\d\d\.\d{6}Z$/);
      // Exchange columns carry what commands --json says, value for value.
      const first = cliJson(['sql', out, `SELECT * FROM exchanges WHERE capture = '${paths[0]}' LIMIT 3`, '-T', 'json']);
      const firstJson = commands.exchanges.filter((e: { capture: string }) => e.capture === paths[0]).slice(0, 3);
      for (const [i, row] of first.entries()) {
        const e = firstJson[i];
        for (const k of ['conn', 'tag', 'command', 'args', 'status', 'code', 'text', 'requestFrame', 'responseFrame', 'latencyMs', 'untagged', 'untaggedByType', 'requestBytes', 'responseBytes', 'mailbox']) {
          const got = k === 'untaggedByType' ? Object.fromEntries((row[k] as { key: string; value: number }[]).map((p) => [p.key, p.value])) : row[k];
          assert.deepEqual(got, e[k], `exchange ${i} ${k}`);
        }
        assert.equal(row.startTime, e.start, 'µs captures keep their ISO time exactly');
      }
    } finally {
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });
}

test('export again on a grown directory adds exactly the new captures (by content, whatever the name)', () => {
  const root = tempDir();
  const inbox = join(root, 'in');
  const out = join(root, 'ds');
  mkdirSync(inbox);
  try {
    copyFileSync(join(CAPTURES, 'seed-alice.pcap'), join(inbox, 'a.pcap'));
    copyFileSync(join(CAPTURES, 'mbsync.pcap'), join(inbox, 'b.pcap'));
    let r = runCli(['export', inbox, '--out', out, '--format', 'ndjson']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /added 2 capture\(s\) .* as batch 1/);

    copyFileSync(join(CAPTURES, 'curl.pcap'), join(inbox, 'c.pcap'));
    copyFileSync(join(CAPTURES, 'fetchmail.pcap'), join(inbox, 'd-no-extension'));
    copyFileSync(join(CAPTURES, 'seed-alice.pcap'), join(inbox, 'a-again.pcap')); // same content, new name
    r = runCli(['export', inbox, '--out', out, '--format', 'ndjson']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /added 2 capture\(s\) .* as batch 2 .*; 3 already there/);
    assert.match(r.stderr, /a-again\.pcap: already in the dataset/);
    const caps = cliJson(['sql', out, 'SELECT capture FROM captures ORDER BY capture', '-T', 'json']).map((c: { capture: string }) => c.capture);
    assert.deepEqual(caps, ['a.pcap', 'b.pcap', 'c.pcap', 'd-no-extension'].map((n) => join(inbox, n)));
    // The new batch holds only the new captures' rows.
    const batch2 = readFileSync(join(out, 'exchanges', 'batch-00002.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).capture);
    assert.deepEqual([...new Set(batch2)], [join(inbox, 'c.pcap'), join(inbox, 'd-no-extension')]);

    r = runCli(['export', inbox, '--out', out, '--format', 'ndjson']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nothing new: 5 capture\(s\) already/);
    assert.deepEqual(readdirSync(join(out, 'captures')), ['batch-00001.ndjson', 'batch-00002.ndjson'], 'no empty batch');
    r = runCli(['export', inbox, '--out', out, '--format', 'parquet']);
    assert.equal(r.code, 2, 'a dataset keeps its one format');
    assert.match(r.stderr, /the dataset there is ndjson/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a damaged capture becomes warnings rows, a file that is no capture an error row; the export succeeds', () => {
  const root = tempDir();
  const out = join(root, 'ds');
  try {
    const whole = readFileSync(join(CAPTURES, 'seed-alice.pcap'));
    const cut = join(root, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const junk = join(root, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture\n');
    const r = runCli(['export', cut, junk, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const warnings = cliJson(['sql', out, 'SELECT capture, frame, message FROM warnings', '-T', 'json']);
    const cutWarnings = warnings.filter((w: { capture: string }) => w.capture === cut);
    assert.ok(cutWarnings.some((w: { message: string }) => /truncated|cut|end of/i.test(w.message)), JSON.stringify(cutWarnings));
    assert.deepEqual(warnings.filter((w: { capture: string }) => w.capture === junk).map((w: { frame: null }) => w.frame), [null]);
    const caps = cliJson(['sql', out, 'SELECT capture, format, error, exchanges, warnings FROM captures', '-T', 'json']);
    const c = caps.find((x: { capture: string }) => x.capture === cut);
    assert.equal(c.format, 'pcap');
    assert.equal(c.error, null);
    assert.ok(c.exchanges > 5, 'what was read before the cut is kept');
    assert.equal(c.warnings, cutWarnings.length);
    const j = caps.find((x: { capture: string }) => x.capture === junk);
    assert.equal(j.format, null);
    assert.match(j.error, /not a pcap or pcapng capture/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('directories are walked for captures by their magic bytes, not their names; links are not followed', () => {
  const root = tempDir();
  const dir = join(root, 'in');
  const out = join(root, 'ds');
  mkdirSync(join(dir, 'nested'), { recursive: true });
  try {
    copyFileSync(join(CAPTURES, 'seed-bob.pcap'), join(dir, 'capture.txt'));
    writeFileSync(join(dir, 'nested', 'trace.bin'), gzipSync(readFileSync(join(CAPTURES, 'offlineimap.pcapng'))));
    writeFileSync(join(dir, 'looks-like.pcap'), 'plain text with a capture-like name\n');
    writeFileSync(join(dir, 'notes.gz'), gzipSync(Buffer.from('gzip, but no capture inside')));
    symlinkSync(join(CAPTURES, 'mbsync.pcap'), join(dir, 'link.pcap'));
    const r = runCli(['export', dir, '--out', out, '--jobs', '1']);
    assert.equal(r.code, 0, r.stderr);
    const caps = cliJson(['sql', out, 'SELECT capture, format, gzip FROM captures', '-T', 'json']);
    assert.deepEqual(caps, [
      { capture: join(dir, 'capture.txt'), format: 'pcap', gzip: false },
      { capture: join(dir, 'nested', 'trace.bin'), format: 'pcapng', gzip: true },
    ]);
    assert.deepEqual(readdirSync(root).sort(), ['ds', 'in'], 'nothing written beside --out');
    assert.deepEqual(readdirSync(out).sort(), ['captures', 'connections', 'exchanges', 'fetches', 'imapscope-dataset.json', 'warnings']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('export refuses a table directory that is a link, and a non-empty directory that is no dataset', () => {
  const root = tempDir();
  try {
    const out = join(root, 'ds');
    mkdirSync(out);
    writeFileSync(join(out, 'imapscope-dataset.json'), JSON.stringify({ dataset: 'imapscope', version: 1, format: 'parquet' }));
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(root, 'elsewhere'), join(out, 'exchanges'));
    let r = runCli(['export', join(CAPTURES, 'seed-alice.pcap'), '--out', out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exchanges exists and is not a directory/);
    assert.deepEqual(readdirSync(join(root, 'elsewhere')), [], 'nothing written through the link');

    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'mine.txt'), 'x');
    r = runCli(['export', join(CAPTURES, 'seed-alice.pcap'), '--out', other]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not empty and not an imapscope dataset/);
    assert.deepEqual(readdirSync(other), ['mine.txt']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('export --jobs 2 writes the same dataset as --jobs 1, byte for byte', () => {
  const root = tempDir();
  try {
    for (const jobs of ['1', '2']) {
      const r = runCli(['export', ...recorded, '--out', join(root, jobs), '--format', 'ndjson', '--jobs', jobs]);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const table of TABLE_NAMES) {
      const one = readFileSync(join(root, '1', table, 'batch-00001.ndjson'));
      assert.ok(table === 'warnings' || one.length > 0, table);
      assert.ok(one.equals(readFileSync(join(root, '2', table, 'batch-00001.ndjson'))), table);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sql: text, JSON and CSV output; a bad query or a directory that is no dataset exits 2 with one line', () => {
  const root = tempDir();
  const out = join(root, 'ds');
  try {
    assert.equal(runCli(['export', join(CAPTURES, 'seed-alice.pcap'), '--out', out]).code, 0);
    // The oracle: commands --json on the same capture.
    const ex = cliJson(['commands', '--json', join(CAPTURES, 'seed-alice.pcap')]).exchanges as { command: string; requestFrame: number }[];
    const expect = ['LOGIN', 'LOGOUT'].map((command) => {
      const mine = ex.filter((e) => e.command === command);
      return { command, n: mine.length, first: Math.min(...mine.map((e) => e.requestFrame)) };
    });
    assert.equal(expect[0]!.n, 3);
    const q = "SELECT command, count(*) AS n, min(requestFrame) AS first FROM exchanges WHERE command IN ('LOGIN', 'LOGOUT') GROUP BY ALL ORDER BY command";
    assert.deepEqual(cliJson(['sql', out, q, '-T', 'json']), expect);
    const csv = runCli(['sql', out, q, '-T', 'csv']);
    assert.equal(csv.stdout, `command,n,first\r\n${expect.map((e) => `${e.command},${e.n},${e.first}`).join('\r\n')}\r\n`);
    const text = runCli(['sql', out, q]);
    // Numbers stand right-aligned in text tables.
    assert.match(text.stdout, new RegExp(`│ LOGIN +│ +3 │ +${expect[0]!.first} │`));
    assert.match(text.stdout, /2 rows\n$/);
    const bad = runCli(['sql', out, 'SELECT nope FROM exchanges']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^imapscope: sql: .*nope/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    const none = runCli(['sql', root, 'SELECT 1']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /not an imapscope dataset/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('docs/fleet.md documents every column of every table with its type', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'fleet.md'), 'utf8');
  for (const table of TABLE_NAMES) {
    const section = doc.split(/^### /m).find((s) => s.startsWith(`\`${table}\``));
    assert.ok(section, `a section for ${table}`);
    const documented = [...section.matchAll(/^\| `(\w+)` \| `([^`]+)` \|/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(documented, TABLES[table].map((c) => [c.name, c.type]), table);
  }
});

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

test('the README\'s three questions give the answers it shows, over an export of captures/', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Many captures'), readme.indexOf('## As a library'));
  const pairs = [...section.matchAll(/```sql\n([\s\S]*?)```\n\n```text\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const);
  assert.equal(pairs.length, 3);
  const root = tempDir();
  try {
    const out = join(root, 'fleet');
    const r = runCli(['export', 'captures', '--out', out], { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    for (const [query, shown] of pairs) {
      const answer = runCli(['sql', out, query], { cwd: ROOT });
      assert.equal(answer.code, 0, answer.stderr);
      assert.equal(answer.stdout, shown, query);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('export: a missing path or standard input is a usage error, and nothing is created', () => {
  const root = tempDir();
  try {
    const out = join(root, 'ds');
    let r = runCli(['export', join(CAPTURES, 'seed-alice.pcap'), join(root, 'missing.pcap'), '--out', out]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `imapscope: ${join(root, 'missing.pcap')}: no such file\n`);
    r = runCli(['export', '-', '--out', out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /save standard input to a file first/);
    assert.deepEqual(readdirSync(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a capture\'s long tables are handed on as NDJSON while it is analysed, in chunks, never held whole', async () => {
  const { captureRows } = await import('../src/fleet/rows.js');
  const { generateScaleCapture } = await import('../bench/scale-captures.js');
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-rows-'));
  try {
    const path = join(dir, 'closed.pcap');
    await generateScaleCapture('closed', 1000, path);
    const chunks: Record<string, string[]> = {};
    const { rows, streamed } = await captureRows({ path, sha256: 'x', size: 0 }, { ports: [143], keySecrets: new KeyLog().secrets }, (table, text) => {
      (chunks[table] ??= []).push(text);
    }, { dir, budget: 10 });
    const lines = (table: string) => (chunks[table] ?? []).join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines('exchanges').length, 4000);
    assert.equal(lines('connections').length, 1000);
    assert.deepEqual(streamed, { connections: 1000, exchanges: 4000, fetches: 0 });
    assert.deepEqual([rows.captures[0]!.exchanges, rows.captures[0]!.connections], [4000, 1000]);
    assert.ok(chunks.exchanges!.length > 10, `${chunks.exchanges!.length} chunks of exchanges`);
    for (const chunk of chunks.exchanges!) assert.ok(chunk.length < 64 * 1024 + 4096 && chunk.endsWith('\n'), 'whole lines, about 64 KiB at a time');
    assert.deepEqual(lines('exchanges').slice(0, 4).map((r) => r.command), ['LOGIN', 'SELECT', 'UID FETCH', 'LOGOUT']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The rows of one table of an NDJSON dataset (its one batch). */
function ndjsonRows(dir: string, table: string): Record<string, unknown>[] {
  const files = readdirSync(join(dir, table));
  return files.flatMap((f) => readFileSync(join(dir, table, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
}

test('export: connection rows carry each connection\'s settled last frame and end, and fetch rows their part\'s type, as streams and fetches show them', () => {
  const out = join(tempDir(), 'ds');
  try {
    const r = runCli(['export', ...recorded, '--out', out, '--format', 'ndjson', '--jobs', '1']);
    assert.equal(r.code, 0, r.stderr);
    // Written at each close, completed with what the last ACKs moved after it.
    const streams = cliJson<{ connections: { capture: string; id: number; firstFrame: number; lastFrame: number; start: string; end: string }[] }>(['streams', '--json', ...recorded]).connections;
    const rows = ndjsonRows(out, 'connections');
    assert.equal(rows.length, streams.length);
    for (const [i, s] of streams.entries()) {
      const row = rows[i]!;
      const want = { capture: s.capture, conn: s.id, firstFrame: s.firstFrame, lastFrame: s.lastFrame, startTime: s.start, endTime: s.end };
      assert.deepEqual({ capture: row.capture, conn: row.conn, firstFrame: row.firstFrame, lastFrame: row.lastFrame, startTime: row.startTime, endTime: row.endTime }, want, `connection row ${i}`);
      const span = Date.parse(s.end) - Date.parse(s.start);
      assert.ok(Math.abs((row.durationMs as number) - span) < 1, `durationMs ${String(row.durationMs)} against ${span}`);
    }
    // Part types from the merged message views, as fetches --json lists the parts.
    const fetched = cliJson<{ messages: { capture: string; mailbox: string; uidValidity: number; uid: number; parts: { part: string; type: string }[] | null }[] }>(['fetches', '--json', ...recorded]).messages;
    const typeOf = new Map<string, string>();
    for (const m of fetched) for (const p of [...m.parts ?? []].reverse()) typeOf.set(`${m.capture}|${m.mailbox}|${m.uidValidity}|${m.uid}|${p.part}`, p.type);
    const withPart = ndjsonRows(out, 'fetches').filter((f) => f.part !== null);
    assert.ok(withPart.length >= 5, `${withPart.length} fetch rows name a part`);
    for (const f of withPart) assert.equal(f.partType, typeOf.get(`${String(f.capture)}|${String(f.mailbox)}|${String(f.uidValidity)}|${String(f.uid)}|${String(f.part)}`) ?? null, JSON.stringify(f));
  } finally {
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
});

test('a capture\'s connection and fetch rows wait on disk inside the scratch directory, and a budget of 1 gives the rows held ones give', async () => {
  const { captureRows } = await import('../src/fleet/rows.js');
  const { generateCapture } = await import('../bench/gen-capture.js');
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-rows-'));
  try {
    const sync = join(dir, 'sync.pcap');
    await generateCapture({ out: sync, mb: 1, mix: 'sync', seed: 11 });
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    for (const path of [sync, join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'seed-alice.pcap')]) {
      const texts = async (budget: number) => {
        const chunks: Record<string, string> = {};
        const seen = new Set<string>();
        await captureRows({ path, sha256: 'x', size: 0 }, { ports: [143], keySecrets: new KeyLog().secrets }, (table, text) => {
          chunks[table] = (chunks[table] ?? '') + text;
          // What waits on disk while the rows are handed on: the connections' rows and, spilled, the fetched messages.
          if (table !== 'exchanges') for (const d of readdirSync(scratch)) for (const f of readdirSync(join(scratch, d))) seen.add(f.replace(/-[^-]*$/, ''));
        }, { dir: scratch, budget });
        assert.deepEqual(readdirSync(scratch), [], 'nothing is left in the scratch directory');
        return { chunks, seen };
      };
      const spilled = await texts(1);
      const held = await texts(1e9);
      assert.deepEqual(spilled.chunks, held.chunks, path);
      assert.ok(spilled.seen.has('connections'), `${path}: ${[...spilled.seen].join(' ')}`);
      // The sync's fetch rows go out in chunks while the merge still reads the runs (they go once it is done).
      if (path === sync) assert.ok(spilled.seen.has('imapscope-fetches'), `the messages were spilled (${[...spilled.seen].join(' ')})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sql writes its rows a chunk at a time: 50,000 of them as CSV, JSON and a text table are all there and whole; a query failing half-way exits 2 with one line and no rows', () => {
  const root = tempDir();
  const out = join(root, 'ds');
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  try {
    assert.equal(runCli(['export', join(CAPTURES, 'seed-alice.pcap'), '--out', out]).code, 0);
    const q = "SELECT i, 'row ' || i AS label, CASE WHEN i % 7 = 0 THEN NULL ELSE [i, i + 1] END AS pair FROM range(50000) t(i)";
    const csv = runCli(['sql', out, q, '-T', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.split('\r\n');
    assert.equal(lines.length, 50_002, 'a head, 50,000 rows and the end');
    assert.equal(lines[0], 'i,label,pair');
    assert.equal(lines[7], '6,row 6,"[6,7]"');
    assert.equal(lines[8], '7,row 7,');
    assert.equal(lines[50_000], '49999,row 49999,"[49999,50000]"');
    const json = JSON.parse(runCli(['sql', out, q, '-T', 'json']).stdout) as { i: number; label: string; pair: number[] | null }[];
    assert.equal(json.length, 50_000);
    assert.deepEqual(json[49_999], { i: 49_999, label: 'row 49999', pair: [49_999, 50_000] });
    assert.equal(json.filter((r) => r.pair === null).length, Math.ceil(50_000 / 7));
    // The text table: its rows wait in a private directory of TMPDIR (gone after), its columns as wide as the widest cell.
    const text = runCli(['sql', out, q], { env: { TMPDIR: tmp } });
    assert.equal(text.code, 0, text.stderr);
    const rows = text.stdout.split('\n').filter((l) => l.startsWith('│'));
    assert.equal(rows.length, 50_001, 'the head and every row');
    assert.equal(new Set(rows.map((l) => l.length)).size, 1, 'one width for every line');
    assert.match(rows[50_000]!, /│ 49999 │ row 49999 │ \[49999,50000\] │/);
    assert.match(text.stdout, /\n50000 rows\n$/);
    assert.deepEqual(readdirSync(tmp), []);
    // A failed cast in row 1,500,000 (a streamed result would end there as if complete): the query's error, one line, no rows.
    const bad = runCli(['sql', out, "SELECT CAST(CASE WHEN i = 1500000 THEN 'x' ELSE i::VARCHAR END AS INTEGER) AS n FROM range(2000000) t(i)", '-T', 'csv']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^imapscope: sql: .*'x'/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a file that is no capture leaves nothing open and nothing in the scratch directory, however many of them', { skip: !existsSync('/proc/self/fd') && 'needs /proc/self/fd' }, async () => {
  const { captureRows } = await import('../src/fleet/rows.js');
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-rows-'));
  try {
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture\n');
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 20; i++) {
      const { rows } = await captureRows({ path: junk, sha256: 'x', size: 22 }, { ports: [143], keySecrets: new KeyLog().secrets }, () => {}, { dir: scratch, budget: 10 });
      assert.match(String(rows.captures[0]!.error), /not a|capture/i);
    }
    assert.equal(open(), before, 'file descriptors after 20 files that are no captures');
    assert.deepEqual(readdirSync(scratch), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a DuckDB database lives for one use: closed after it, whether the use ends well or throws', async () => {
  let kept: DuckDBConnection | null = null;
  const answer = await withDuckDb(null, async (db) => {
    kept = db;
    return (await db.runAndReadAll('SELECT 6 * 7')).getRows()[0]![0];
  });
  assert.equal(answer, 42);
  await assert.rejects(kept!.run('SELECT 1'), 'its connection is closed after the use');
  const failed = new Error('the use failed');
  await assert.rejects(withDuckDb(null, async (db) => {
    kept = db;
    throw failed;
  }), failed);
  await assert.rejects(kept!.run('SELECT 1'), 'and after a use that threw');
});

test('export to Parquet holds what export to NDJSON holds, row for row, also rows longer than its reader\'s least line bound', async () => {
  const dir = tempDir();
  try {
    // Two rows past the 512 KiB the reader takes at least: 550,000 characters of ASCII, and 300,000 octets 0xE9 that
    // are 300,000 characters but 600,000 bytes of UTF-8 (measured in characters, the longest row would be the first).
    const long = join(dir, 'long-rows.pcap');
    writeCapture(long, {
      format: 'pcap',
      packets: tcpConversation({
        start: 1_700_000_000,
        exchanges: [
          { from: 'server', data: '* OK ready\r\n' },
          { from: 'client', data: 'a1 NOOP\r\n', delay: 0.001 },
          { from: 'server', data: `a1 OK ${'x'.repeat(550_000)}\r\n`, delay: 0.001 },
          { from: 'client', data: 'a2 NOOP\r\n', delay: 0.001 },
          { from: 'server', data: `a2 OK ${'\u00e9'.repeat(300_000)}\r\n`, delay: 0.001 },
        ],
      }),
    });
    // A file that is no capture: a captures row with its error, and a warnings row.
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'no capture at all\n');
    const paths = [...recorded, long, junk];
    const out = { parquet: join(dir, 'parquet'), ndjson: join(dir, 'ndjson') };
    for (const format of ['parquet', 'ndjson'] as const) {
      const r = runCli(['export', ...paths, '--out', out[format], '--format', format]);
      assert.equal(r.code, 0, r.stderr);
    }
    await withDuckDb(null, async (db) => {
      const one = async (sql: string) => (await db.runAndReadAll(sql)).getRows()[0]!;
      for (const table of TABLE_NAMES) {
        const parquet = tableSource(out.parquet, 'parquet', table);
        const ndjson = tableSource(out.ndjson, 'ndjson', table);
        const [rows, onlyParquet, onlyNdjson] = (await one(`SELECT (SELECT count(*) FROM ${parquet}),
          (SELECT count(*) FROM (SELECT * FROM ${parquet} EXCEPT ALL SELECT * FROM ${ndjson})),
          (SELECT count(*) FROM (SELECT * FROM ${ndjson} EXCEPT ALL SELECT * FROM ${parquet}))`)).map(Number);
        assert.ok(rows! > 0, `${table} has rows`);
        assert.deepEqual([onlyParquet, onlyNdjson], [0, 0], `${table}: rows in one format only`);
        const columns = (await db.runAndReadAll(`DESCRIBE SELECT * FROM ${parquet}`)).getRows().map((c) => `${c[0]} ${c[1]}`);
        assert.deepEqual(columns, TABLES[table].map((c) => `${c.name} ${c.type}`), `${table}: the documented columns, in order`);
      }
      const texts = (await db.runAndReadAll(`SELECT tag, text FROM ${tableSource(out.parquet, 'parquet', 'exchanges')} WHERE capture = '${long}' ORDER BY tag`)).getRows();
      assert.deepEqual(texts, [['a1', 'x'.repeat(550_000)], ['a2', '\u00e9'.repeat(300_000)]]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DuckDB spills where it is told, and nowhere when told none: a query past its memory fails instead of writing elsewhere', async () => {
  const dir = tempDir();
  try {
    // Sorting two million hashes needs more than 32 MB.
    const sort = async (db: DuckDBConnection) => {
      await db.run("SET memory_limit = '32MB'");
      await db.run('SET threads = 1');
      const rows = (await db.runAndReadAll('SELECT count(*) FROM (SELECT md5(i::VARCHAR) AS s FROM range(2000000) t(i) ORDER BY s)')).getRows();
      return Number(rows[0]![0]);
    };
    assert.equal(await withDuckDb(join(dir, 'spill'), sort), 2_000_000);
    await assert.rejects(withDuckDb(null, sort), /Out of Memory/);
    assert.ok(!existsSync(join(process.cwd(), '.tmp')), 'DuckDB\'s own default, .tmp in the working directory, is never used');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sql lets DuckDB spill into a private directory under TMPDIR, removed after the query, never into the working directory', () => {
  const dir = tempDir();
  try {
    const tmp = join(dir, 'tmp');
    const cwd = join(dir, 'cwd');
    mkdirSync(tmp);
    mkdirSync(cwd);
    const out = join(dir, 'ds');
    assert.equal(runCli(['export', join(CAPTURES, 'curl.pcap'), '--out', out, '--format', 'ndjson']).code, 0);
    const r = runCli(['sql', out, "SELECT current_setting('temp_directory') AS t", '-T', 'json'], { cwd, env: { TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stderr);
    const [{ t }] = JSON.parse(r.stdout) as { t: string }[];
    assert.ok(t.startsWith(join(tmp, 'imapscope-spill-')), t);
    assert.deepEqual(readdirSync(tmp), [], 'removed after the query');
    assert.deepEqual(readdirSync(cwd), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Characters that could trip a reader of NDJSON lines: controls (U+0001 is its delimiter), quotes, escapes, separators, any plane. */
const AWKWARD = ['\u0000', '\u0001', '\t', '\n', '\r', '\u001f', '"', "'", '\\', ',', ';', '{', '}', '[', ']', ':', ' ', '\u007f', '\u0085', '\u00e9', '\u2028', '\ufeff', '\uffff', '\u{1f600}', '\u{10ffff}', 'NULL', '\\u0041'];

test('text of any kind comes out of Parquet as it went in: controls, quotes, escapes, line breaks, any plane, empty and null', async () => {
  const dir = tempDir();
  try {
    const int = seededInt(28);
    const texts: (string | null)[] = ['', null, 'plain'];
    for (let i = 0; i < 3000; i++) texts.push(Array.from({ length: int(40) }, () => (int(3) === 0 ? String.fromCharCode(32 + int(95)) : AWKWARD[int(AWKWARD.length)])).join(''));
    // 800,000 bytes of UTF-8 in 400,000 UTF-16 units: past the reader's least line bound.
    texts.push('\u{1f600}'.repeat(200_000));
    const writer = await DatasetWriter.open(join(dir, 'ds'), 'parquet');
    writer.append({
      captures: [{ capture: 'awkward' }],
      warnings: texts.map((message, i) => ({ capture: 'awkward', conn: i, frame: null, message })),
    });
    assert.equal(await writer.commit(), 1);
    await withDuckDb(null, async (db) => {
      const rows = (await db.runAndReadAll(`SELECT conn, message FROM ${tableSource(join(dir, 'ds'), 'parquet', 'warnings')} ORDER BY conn`)).getRows();
      assert.equal(rows.length, texts.length);
      for (const [i, [conn, message]] of rows.entries()) {
        assert.equal(conn, i);
        assert.equal(message, texts[i], `row ${i}`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Export `capture` into `out`, pressing Ctrl-C `times` times once the capture is being read (its rows' scratch exists). */
async function interruptedExport(capture: string, out: string, times: number) {
  const child = spawn(process.execPath, [CLI, 'export', capture, '--out', out], { env: { ...process.env, FORCE_COLOR: '0' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const reading = () => {
    try {
      return readdirSync(out).filter((n) => n.startsWith('.imapscope-tmp-')).some((t) => readdirSync(join(out, t)).some((n) => n.startsWith('imapscope-rows-')));
    } catch {
      return false; // not made yet, or removed while we looked
    }
  };
  while (!reading()) await new Promise((resolve) => setTimeout(resolve, 10));
  for (let i = 0; i < times; i++) child.kill('SIGINT');
  return { code: await closed, stdout, stderr };
}

test('Ctrl-C during export adds nothing: exit 130, one line saying so, no batch and no temporary directory left; a second Ctrl-C leaves none either', { timeout: 120_000 }, async () => {
  const { generateCapture } = await import('../bench/gen-capture.js');
  const dir = tempDir();
  try {
    const capture = join(dir, 'sync.pcap');
    await generateCapture({ out: capture, mb: 40, mix: 'sync', seed: 5 });
    const out = join(dir, 'ds');
    const batches = () => TABLE_NAMES.flatMap((t) => readdirSync(join(out, t)));

    const once = await interruptedExport(capture, out, 1);
    assert.equal(once.code, 130, once.stderr);
    assert.equal(once.stdout, '');
    assert.match(once.stderr, new RegExp(`^imapscope: export interrupted; nothing was added to ${out}\n$`, 'm'));
    assert.doesNotMatch(once.stderr, /partial:/);
    assert.deepEqual(batches(), []);
    assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.')), [], 'no temporary directory left');

    const twice = await interruptedExport(capture, out, 2);
    assert.equal(twice.code, 130, twice.stderr);
    assert.deepEqual(batches(), []);
    assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.')), [], 'none after leaving at once either');

    // The capture was not marked as exported: the next run adds it.
    const again = runCli(['export', capture, '--out', out, '--format', 'parquet']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^added 1 capture\(s\) .* as batch 1 /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interrupted export discards its batch\'s temporary directory before it returns', async () => {
  const dir = tempDir();
  try {
    const out = join(dir, 'ds');
    const report = await exportDataset([join(CAPTURES, 'curl.pcap')], out, 'parquet', 1, { ports: [143], keySecrets: new KeyLog().secrets }, 10, AbortSignal.abort());
    assert.deepEqual([report.interrupted, report.batch, report.added], [true, null, []]);
    assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
