/** --jobs: captures analysed in worker threads give the same bytes, in argument order, as one at a time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPTURES, NO_PUBLIC, PUBLIC, hasPublic, unavailable } from './helpers/env.js';
import { runCli } from './helpers/cli.js';

const recorded = readdirSync(CAPTURES).filter((n) => /\.pcap(ng)?$/.test(n)).sort().map((n) => join(CAPTURES, n));
const publicOnes = hasPublic ? readdirSync(PUBLIC).filter((n) => /\.(pcap|pcapng|cap)$/.test(n)).sort().map((n) => join(PUBLIC, n)) : [];
const all = [...recorded, ...publicOnes];

const views: string[][] = [
  ['summary'], ['summary', '--json'], ['streams'], ['streams', '--json'],
  ['commands'], ['commands', '--json'], ['commands', '--ndjson'], ['commands', '--command', 'select'],
  ['fetches'], ['fetches', '--json'], ['fetches', '--ndjson'],
  ['check', '--no-bad', '--max-concurrent', '2'], ['check', '--all-completed', '--json'],
  ['compare'],
];

for (const view of views) {
  test(`${view.join(' ')} --jobs 2 is byte-identical to --jobs 1 over every recorded and public capture`, { skip: unavailable(!hasPublic && NO_PUBLIC) }, () => {
    const one = runCli([...view, ...all, '--jobs', '1']);
    const two = runCli([...view, ...all, '--jobs', '2']);
    assert.ok(one.code === 0 || one.code === 1, one.stderr);
    assert.ok(one.stdout.length > 200, 'there is output to compare');
    assert.equal(two.code, one.code);
    assert.equal(two.stdout, one.stdout);
    assert.equal(two.stderr, one.stderr);
  });
}

test('--jobs keeps argument order: NDJSON rows come capture by capture as given, even reversed', () => {
  const reversed = [...recorded].reverse();
  const r = runCli(['commands', '--ndjson', ...reversed, '--jobs', '2']);
  assert.equal(r.code, 0, r.stderr);
  const order = [...new Set(r.stdout.trim().split('\n').map((l) => JSON.parse(l).capture as string))];
  assert.deepEqual(order, reversed.filter((p) => order.includes(p)));
  assert.ok(order.length >= 8, order.join(' '));
});

test('--jobs: an unreadable capture among others fails the same way (what came before it printed, exit 2)', () => {
  const args = ['summary', recorded[0]!, join(CAPTURES, 'no-such.pcap'), recorded[1]!];
  const one = runCli([...args, '--jobs', '1']);
  const two = runCli([...args, '--jobs', '2']);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /no-such\.pcap: no such file/);
  assert.deepEqual(two, one);
  const bad = runCli(['summary', recorded[0]!, '--jobs', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--jobs/);
});

test('a directory argument is walked for captures by magic: the same output as naming its capture files', () => {
  const dir = join(CAPTURES, 'imaps-tls13');
  const named = runCli(['summary', '--json', join(dir, 'imaps-tls13.dsb.pcapng')]);
  const walked = runCli(['summary', '--json', dir]);
  assert.equal(walked.code, 0, walked.stderr);
  assert.equal(walked.stdout, named.stdout, 'only the pcapng in it, not its key logs, rawlogs or stream dumps');
  const none = runCli(['commands', join(CAPTURES, 'seed-alice')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /seed-alice: is a directory with no capture files in it/);
});

test('in this thread the pool copies a result unless told not to (summary takes its analysis as it is, not doubled at the peak)', async () => {
  const { inOrder } = await import('../src/parallel/pool.js');
  const { CommandStats } = await import('../src/analysis/stats.js');
  const { captureSettings, plainSettings } = await import('../src/cli/options.js');
  const settings = plainSettings(captureSettings({ port: '143,993' }));
  const input = { path: recorded[0]!, settings, filter: undefined, keepSelected: false };
  const results = async (options?: { copyInThread: boolean }) => {
    const list = [];
    for await (const r of inOrder('analysis', [input], 1, undefined, {}, options)) list.push(r);
    return list;
  };
  // A copy (structuredClone) keeps the data and drops the classes: the statistics are plain objects then.
  const [copied] = await results();
  const [shared] = await results({ copyInThread: false });
  assert.equal(copied!.analysis.commandStats instanceof CommandStats, false);
  assert.equal(shared!.analysis.commandStats instanceof CommandStats, true);
  assert.deepEqual(shared!.analysis.commandStats.summaries(), new CommandStats().summaries.call(copied!.analysis.commandStats));
  assert.ok(shared!.analysis.connections.length > 0);
});

test('with several jobs this thread is one of them: it takes the largest capture, workers the others (the results in argument order)', async () => {
  const { inOrder, poolPlan } = await import('../src/parallel/pool.js');
  const { CommandStats } = await import('../src/analysis/stats.js');
  const { captureSettings, plainSettings } = await import('../src/cli/options.js');
  const { captureSizes } = await import('../src/parallel/jobs.js');
  assert.deepEqual(poolPlan(3, 2, [10, 1000, 5]), { workers: 1, order: [1, 0, 2] });
  assert.deepEqual(poolPlan(3, 4, [10, 1000, 5]), { workers: 2, order: [1, 0, 2] });
  assert.deepEqual(poolPlan(3, 2), { workers: 1, order: [0, 1, 2] });
  assert.deepEqual(poolPlan(3, 2, [7, 7, 7]), { workers: 1, order: [0, 1, 2] }, 'the first of equals');
  assert.deepEqual(poolPlan(3, 1, [10, 1000, 5]), { workers: 0, order: [0, 1, 2] });
  assert.deepEqual(poolPlan(1, 2, [10]), { workers: 0, order: [0] });
  const settings = plainSettings(captureSettings({ port: '143,993' }));
  const paths = recorded.slice(0, 4);
  const sizes = captureSizes(paths);
  const largest = sizes.indexOf(Math.max(...sizes));
  const list = [];
  const inputs = paths.map((path) => ({ path, settings, filter: undefined, keepSelected: false }));
  const { heapRoomShare } = await import('../src/util/heap-growth.js');
  const shares = [];
  for await (const r of inOrder('analysis', inputs, 2, undefined, {}, { copyInThread: false, sizes })) {
    list.push(r);
    shares.push(heapRoomShare());
  }
  // While the worker reads, this thread's heap watch has half the process's room; all of it once the pool is done.
  assert.deepEqual(shares, paths.map(() => 2));
  assert.equal(heapRoomShare(), 1);
  // A result taken as it is keeps its classes; one that crossed from a worker is plain data. This thread starts with the
  // largest and the worker with the next in the plan; the rest go to whichever is free first.
  const ranHere = list.map((r) => r.analysis.commandStats instanceof CommandStats);
  const { order } = poolPlan(paths.length, 2, sizes);
  assert.equal(order[0], largest);
  assert.equal(ranHere[largest], true);
  assert.equal(ranHere[order[1]!], false);
  assert.deepEqual(list.map((r) => r.analysis.capture.path), paths);
});

test('without --jobs, captures that add up to little are read in this thread alone; --jobs and standard input as before', async () => {
  const { jobsFor, SMALL_INPUT_BYTES } = await import('../src/parallel/jobs.js');
  const { availableParallelism } = await import('node:os');
  const cores = availableParallelism();
  assert.equal(jobsFor('auto', ['a', 'b'], [SMALL_INPUT_BYTES / 2, SMALL_INPUT_BYTES / 2 - 1]), 1);
  assert.equal(jobsFor('auto', ['a', 'b'], [SMALL_INPUT_BYTES / 2, SMALL_INPUT_BYTES / 2]), cores);
  assert.equal(jobsFor(2, ['a', 'b'], [1, 1]), 2, 'an explicit --jobs is kept');
  assert.equal(jobsFor(2, ['-', 'b'], [0, SMALL_INPUT_BYTES]), 1, 'standard input keeps all in this thread');
  assert.equal(jobsFor('auto', ['-', 'b'], [0, SMALL_INPUT_BYTES]), 1);
});

test('standard input among several captures is read in this thread (a worker cannot read it), whatever --jobs says', () => {
  const stdin = readFileSync(join(CAPTURES, 'seed-alice.pcap'));
  const bob = join(CAPTURES, 'seed-bob.pcap');
  for (const view of [['summary', '--json'], ['compare', '--json'], ['check', '--no-bad', '--json'], ['commands', '--ndjson'], ['streams', '--json'], ['fetches', '--json']]) {
    const one = runCli([...view, '-', bob, '--jobs', '1'], { input: stdin });
    assert.equal(one.code, 0, `${view.join(' ')}: ${one.stderr}`);
    assert.ok(one.stdout.includes('"-"') || one.stdout.includes('"capture":"-"'), `${view.join(' ')} read standard input`);
    for (const jobs of [[], ['--jobs', '2']]) assert.deepEqual(runCli([...view, '-', bob, ...jobs], { input: stdin }), one, `${view.join(' ')} ${jobs.join(' ')}`);
  }
});

test('standard input named twice is one clear error, not an empty second capture', () => {
  const r = runCli(['compare', '-', '-'], { input: readFileSync(join(CAPTURES, 'seed-alice.pcap')) });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'imapscope: -: standard input can be read only once; name it once\n');
  assert.equal(r.stdout, '');
});
