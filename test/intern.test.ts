/**
 * Values kept for a whole capture are copied off the wire lines they were cut from: a string sliced from a
 * line keeps the whole line alive in V8, and a record that keeps a few such values would keep every line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detached } from '../src/util/intern.js';
import { collectGarbage } from './helpers/gc.js';

/** Heap used after a full collection. */
async function heapAfterGc(): Promise<number> {
  await collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Forty short values, each cut from the end of a line of its own of 1 MiB; the lines themselves are not kept. */
function valuesCutFromLines(copy: (s: string) => string): string[] {
  const values: string[] = [];
  for (let i = 0; i < 40; i++) {
    const line = `${'x'.repeat(1 << 20)} ${i} Subject: a value long enough to be a slice`;
    values.push(copy(line.slice(line.length - 40)));
  }
  return values;
}

test('a detached value keeps nothing of the line it was cut from alive (40 lines of 1 MiB)', async () => {
  const before = await heapAfterGc();
  const sliced = valuesCutFromLines((s) => s);
  const held = (await heapAfterGc()) - before;
  // The check itself must see the difference: plain slices hold on to their lines.
  assert.ok(held > 30 * (1 << 20), `plain slices keep their lines: ${(held / 2 ** 20).toFixed(1)} MiB`);
  sliced.length = 0;
  const base = await heapAfterGc();
  const kept = valuesCutFromLines(detached);
  const grown = (await heapAfterGc()) - base;
  assert.ok(grown < 1 << 20, `detached values hold ${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.deepEqual(kept, valuesCutFromLines((s) => s), 'the same text');
  assert.equal(detached('short'), 'short');
});
