/**
 * leanHeapWhenLarge (src/util/heap-growth.ts): the old generation's headroom is cut after the first full collection
 * after which twice what it found alive, with the memory outside the heap, passes the room given, and cut again as
 * more survives, so that it is never more than half the room; never for a young-generation collection. Each case
 * runs in a child process of its own (node --expose-gc), so that the test says when a full collection happens and
 * the process-wide watch starts fresh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LEAST_GROWING_PERCENT, leanGrowingPercent } from '../src/util/heap-growth.js';

const MODULE = new URL('../src/util/heap-growth.js', import.meta.url).href;
const MiB = 1024 * 1024;

interface Outcome {
  /** Flags set after the young-generation collections, after the first full one, after the second. */
  afterScavenges: string[];
  /** Young-generation collections before the first full one (the case means nothing without some). */
  scavenges: number;
  afterFull: string[];
  afterSecondFull: string[];
  secondWatchStarted: boolean;
  /** The lowest growth the process's threads asked for, as this thread's record of it says at the end. */
  asked: number;
}

/**
 * Keeps `keptMiB` alive, watches with `room`, then collects: young generation only, a full collection, another. The heap
 * alive and the memory outside it are the process's own unless given.
 */
function run(keptMiB: number, room: number, fakeLive?: number | string, fakeOutside?: number, threads = 1, before = ''): Outcome {
  const script = `
    import { growthAskedBuffer, leanHeapWhenLarge, shareGrowthAsked, shareHeapRoom } from ${JSON.stringify(MODULE)};
    ${before}
    import { getHeapStatistics } from 'node:v8';
    import { constants, PerformanceObserver } from 'node:perf_hooks';
    let minor = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
    }).observe({ entryTypes: ['gc'] });
    const settle = () => new Promise((done) => setTimeout(done, 20));
    const kept = Array.from({ length: ${keptMiB} }, () => new Array(${MiB / 8}).fill(0.5));
    const flags = [];
    leanHeapWhenLarge(${room}, 35, {
      liveBytes: () => ${fakeLive ?? 'getHeapStatistics().used_heap_size'},
      outsideBytes: () => ${fakeOutside ?? 'getHeapStatistics().external_memory'},
      setFlags: (f) => flags.push(f),
    });
    shareHeapRoom(${threads});
    const outcome = {};
    // Short-lived garbage: young-generation collections only.
    for (let i = 0; i < 200000; i++) globalThis.sink = { i, text: 'x' + i };
    await settle();
    outcome.afterScavenges = [...flags];
    outcome.scavenges = minor;
    gc();
    await settle();
    outcome.afterFull = [...flags];
    gc();
    await settle();
    outcome.afterSecondFull = [...flags];
    outcome.secondWatchStarted = leanHeapWhenLarge();
    outcome.asked = new Int32Array(growthAskedBuffer())[0];
    globalThis.kept = kept;
    console.log(JSON.stringify(outcome));
  `;
  const child = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)), encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as Outcome;
}

test('once twice what a full collection finds alive passes the room, the growth is cut, once while as much survives', () => {
  // About 50 MiB alive: twice that passes a room of 80 MiB; 35 % of it is under half the room.
  const o = run(48, 80 * MiB);
  assert.deepEqual(o.afterFull, ['--heap-growing-percent=35']);
  assert.deepEqual(o.afterSecondFull, ['--heap-growing-percent=35'], 'as much survived: not set again');
  assert.equal(o.secondWatchStarted, false, 'one watch per thread');
});

test('the more survives, the less the heap grows past it: never more than half the room, never under the least', () => {
  // Each full collection finds 200 MiB more alive: half the room of 80 MiB is 20 % of 200 MiB, 10 % of 400.
  const growing = '(globalThis.fulls = (globalThis.fulls ?? 0) + 1) * 200 * 1024 * 1024';
  const o = run(0, 80 * MiB, growing);
  assert.deepEqual(o.afterFull, ['--heap-growing-percent=20']);
  assert.deepEqual(o.afterSecondFull, ['--heap-growing-percent=20', '--heap-growing-percent=10']);
  assert.equal(leanGrowingPercent(4096 * MiB, 35, 40 * MiB), LEAST_GROWING_PERCENT, 'never under the least');
  assert.equal(leanGrowingPercent(50 * MiB, 35, 40 * MiB), 35, 'never over the percent given');
  assert.equal(leanGrowingPercent(160 * MiB, 35, 40 * MiB), 25);
});

test('the growth is never raised again: a heap that shrinks keeps the cut it had', () => {
  // 200 MiB alive at the first full collection (20 %), 100 MiB at the second (40 % would be under half the room).
  const shrinking = '((globalThis.fulls = (globalThis.fulls ?? 0) + 1) === 1 ? 200 : 100) * 1024 * 1024';
  const o = run(0, 80 * MiB, shrinking);
  assert.deepEqual(o.afterFull, ['--heap-growing-percent=20']);
  assert.deepEqual(o.afterSecondFull, ['--heap-growing-percent=20']);
});

test('a full collection that finds less alive leaves the growth as it is', () => {
  const o = run(8, 32 * MiB);
  assert.deepEqual(o.afterFull, []);
  assert.deepEqual(o.afterSecondFull, []);
});

test('what is alive counts twice: the heap grows to twice it before the next full collection', () => {
  // About 28 MiB alive: under the room of 40 MiB once, past it twice.
  assert.deepEqual(run(24, 40 * MiB).afterFull, ['--heap-growing-percent=35']);
});

test('memory outside the heap counts with it: a small heap beside large buffers is cut', () => {
  assert.deepEqual(run(8, 64 * MiB, undefined, 60 * MiB).afterFull, ['--heap-growing-percent=35']);
  assert.deepEqual(run(8, 64 * MiB, undefined, 0).afterFull, []);
});

test('threads ask for the growth their own heap needs, and the process\'s flag is the lowest any asked', () => {
  // About 50 MiB alive: this thread alone would ask for 35 %; another thread of the process asked for 20 % already.
  const other = run(48, 80 * MiB, undefined, undefined, 1, 'new Int32Array(growthAskedBuffer())[0] = 20;');
  assert.deepEqual(other.afterFull, ['--heap-growing-percent=20']);
  assert.equal(other.asked, 20, 'not raised');
  // A worker adopts the thread that started it's record of asks: what that one asked counts.
  const adopted = 'const shared = new SharedArrayBuffer(4); new Int32Array(shared)[0] = 15; shareGrowthAsked(shared);';
  assert.deepEqual(run(48, 80 * MiB, undefined, undefined, 1, adopted).afterFull, ['--heap-growing-percent=15']);
  // Asking for less lowers the record for every thread.
  const lowered = run(0, 80 * MiB, 400 * MiB);
  assert.deepEqual(lowered.afterFull, ['--heap-growing-percent=10']);
  assert.equal(lowered.asked, 10);
});

test('young-generation collections never cut it, however large the heap: only a full collection tells what survives', () => {
  const o = run(0, 32 * MiB, 1024 * MiB);
  assert.ok(o.scavenges > 0, 'the short-lived garbage made young-generation collections');
  assert.deepEqual(o.afterScavenges, []);
  assert.deepEqual(o.afterFull, [`--heap-growing-percent=${LEAST_GROWING_PERCENT}`]);
});

test('threads that analyse at once share the room: each heap is watched against its share', () => {
  // About 28 MiB alive: twice that is under a room of 80 MiB, past half of it.
  assert.deepEqual(run(24, 80 * MiB).afterFull, []);
  assert.deepEqual(run(24, 80 * MiB, undefined, undefined, 2).afterFull, ['--heap-growing-percent=35']);
});
