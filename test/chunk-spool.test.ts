/**
 * ChunkSpool (src/util/chunk-spool.ts): compare's numbers of each connection still open. A list must read back
 * exactly what was pushed, in order, however its pushes and reads interleave with other lists', from the file or
 * without one; and what stays in memory is each list's tail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkSpool, type ChunkedList } from '../src/util/chunk-spool.js';
import { seededInt } from './helpers/random.js';

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-chunk-spool-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

for (const withFile of [true, false]) {
  test(`lists pushed to and read in any order read back what was pushed (${withFile ? 'chunks in a file' : 'chunks held'})`, () => {
    const file = join(tmp, `spool-${withFile}`);
    const chunk = 6;
    const spool = new ChunkSpool(withFile ? file : null, chunk);
    const rand = seededInt(7);
    const plain: number[][] = [];
    const lists: ChunkedList[] = [];
    for (let round = 0; round < 3000; round++) {
      const k = rand(8);
      if (k >= lists.length) {
        // A new list starts from a short list's numbers, as a connection's does past its plain numbers.
        const start = Array.from({ length: rand(10) }, () => rand(1000) / 7);
        plain.push([...start]);
        lists.push(spool.list(start));
        continue;
      }
      if (rand(20) === 0) {
        // Read mid-way, as a connection drained while others go on; the list itself is left as it was.
        assert.deepEqual([...spool.values(lists[k]!)], plain[k]);
        continue;
      }
      const value = rand(3) === 0 ? NaN : rand(2) === 0 ? Infinity : rand(1_000_000) / 3;
      plain[k]!.push(value);
      spool.push(lists[k]!, value);
    }
    lists.forEach((list, k) => {
      assert.equal(spool.size(list), plain[k]!.length);
      assert.deepEqual([...spool.values(list)], plain[k]);
      // Each holds less than a chunk in memory; the rest is chunks, on disk (an offset) or held (the numbers).
      assert.ok(list.tail.size < chunk);
      assert.equal(list.chunks.length, Math.floor(plain[k]!.length / chunk));
      for (const c of list.chunks) assert.equal(typeof c, withFile ? 'number' : 'object');
    });
    if (withFile) assert.equal(statSync(file).size, lists.reduce((n, l) => n + l.chunks.length, 0) * chunk * 8);
    spool.remove();
    assert.equal(existsSync(file), false);
  });
}

test('a list that never fills a chunk writes nothing; one removed unread leaves no file', () => {
  const file = join(tmp, 'short');
  const spool = new ChunkSpool(file, 100);
  const list = spool.list([1, 2, 3]);
  spool.push(list, 4);
  assert.deepEqual([...spool.values(list)], [1, 2, 3, 4]);
  assert.equal(statSync(file).size, 0);
  spool.remove();
  assert.equal(existsSync(file), false);
});
