/**
 * HeldOutput (src/parallel/held-output.ts): the output of a capture not yet at the head of the pool's order waits, its
 * first part in memory and the rest in a file, and comes back in the order emitted, channel and text alike. With --jobs,
 * a later capture's output larger than memory holds is written as with one job, and the file is gone after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLog } from '../src/tls/keylog.js';
import { HELD_IN_MEMORY_CHARS, HeldOutput } from '../src/parallel/held-output.js';
import { generateScaleCapture } from '../bench/scale-captures.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-held-output-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Pieces of every kind the pool carries: rows and notes, empty ones, other scripts than Latin, one longer than a read. */
function pieces(total: number): [string, string][] {
  const out: [string, string][] = [];
  let chars = 0;
  for (let i = 0; chars < total; i++) {
    const text = i % 97 === 0 ? '' : i % 89 === 0 ? 'ü€😀\r\n'.repeat(70_000) : `{"n":${i},"s":"Grüße ${'x'.repeat(i % 300)}"}\n`;
    out.push([i % 13 === 0 ? 'warning' : i % 5 === 0 ? 'note' : 'row', text]);
    chars += text.length;
  }
  return out;
}

test('held output comes back in the order emitted, from memory and then from its file, and the file is removed', () => {
  const files: string[] = [];
  const held = new HeldOutput(() => {
    const path = join(tmp, `held-${files.length}`);
    files.push(path);
    return path;
  });
  const sent = pieces(3 * HELD_IN_MEMORY_CHARS);
  for (const [channel, text] of sent) held.add(channel, text);
  assert.equal(held.spills, true);
  assert.equal(files.length, 1, 'one file, made once memory is full');
  assert.equal(held.chars, sent.reduce((n, [, text]) => n + text.length, 0));
  assert.deepEqual([...held.replay()], sent);
  assert.equal(existsSync(files[0]!), false, 'removed once replayed');
});

test('without a file to spill to, held output stays in memory and says so (the pool pauses the job instead)', () => {
  const held = new HeldOutput(() => null);
  const sent = pieces(2 * HELD_IN_MEMORY_CHARS);
  for (const [channel, text] of sent) held.add(channel, text);
  assert.equal(held.spills, false);
  assert.deepEqual([...held.replay()], sent);
});

test('discarded held output leaves no file', () => {
  const path = join(tmp, 'discarded');
  const held = new HeldOutput(() => path);
  for (const [channel, text] of pieces(2 * HELD_IN_MEMORY_CHARS)) held.add(channel, text);
  assert.equal(existsSync(path), true);
  held.discard();
  assert.equal(existsSync(path), false);
});

test('--jobs 2: a later capture whose rows outgrow memory while an earlier one is read prints as with one job, and leaves no file', async () => {
  // The larger capture is read in this thread, the later one by a worker: its rows wait for the first's.
  const first = join(tmp, 'closed-20000.pcap');
  const second = join(tmp, 'closed-7000.pcap');
  await generateScaleCapture('closed', 20000, first);
  await generateScaleCapture('closed', 7000, second);
  const own = join(tmp, 'tmpdir');
  mkdirSync(own);
  const run = (jobs: string) => runCli(['commands', '--json', '--jobs', jobs, first, second], { env: { TMPDIR: own } });
  const one = run('1');
  const two = run('2');
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  const secondRows = runCli(['commands', '--json', second]).stdout;
  assert.ok(secondRows.length > HELD_IN_MEMORY_CHARS, `the later capture's rows (${secondRows.length} characters) outgrow memory`);
  assert.equal(two.stdout, one.stdout);
  assert.equal(two.stderr, one.stderr);
  assert.deepEqual(readdirSync(own), [], 'the held rows\' file went with the pool');
});

test('the pool holds a later capture\'s output in a private directory of the one it is given (export: inside --out)', async () => {
  const { inOrder } = await import('../src/parallel/pool.js');
  const first = join(tmp, 'closed-20000.pcap');
  const second = join(tmp, 'closed-7000.pcap');
  if (!existsSync(first)) await generateScaleCapture('closed', 20000, first);
  if (!existsSync(second)) await generateScaleCapture('closed', 7000, second);
  const heldIn = join(tmp, 'held-in');
  mkdirSync(heldIn);
  const settings = { ports: [143, 993], keySecrets: new KeyLog().secrets };
  const flags = { json: true, t: 'r' as const };
  const inputs = [first, second].map((path) => ({ path, settings, multi: true, conn: undefined, filter: undefined, flags, command: null, showSecrets: false, keepSelected: false }));
  /** Files held in `heldIn`'s private directories now. */
  const heldFiles = () => readdirSync(heldIn).flatMap((d) => readdirSync(join(heldIn, d)));
  // The first capture's job waits once (the output's room), until the later one's output went to a file there or 20 s
  // went by.
  let seen = false;
  let asked = false;
  const room = () => {
    if (asked) return null;
    asked = true;
    return new Promise<void>((resolve) => {
      const started = Date.now();
      const look = () => {
        if ((seen = heldFiles().length > 0) || Date.now() - started > 20_000) resolve();
        else setTimeout(look, 20);
      };
      look();
    });
  };
  const rowsOf = async (jobs: number, control: Parameters<typeof inOrder>[4], options: Parameters<typeof inOrder>[5]) => {
    const rows: string[] = [];
    for await (const r of inOrder('commands', inputs, jobs, (channel, text) => { if (channel === 'row') rows.push(text); }, control, options)) void r;
    return rows;
  };
  const two = await rowsOf(2, { room }, { sizes: [2, 1], heldIn });
  assert.equal(seen, true, 'the later capture\'s output waited in a file of the directory given');
  assert.deepEqual(readdirSync(heldIn), [], 'and its directory went with the pool');
  assert.deepEqual(two, await rowsOf(1, {}, {}));
});
