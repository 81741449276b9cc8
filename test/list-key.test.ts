/**
 * listKey (src/util/list-key.ts): compare numbers each distinct sequence of commands by it, so two lists must share a
 * key exactly when they are equal, long ones (a digest) as short ones (their JSON).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listKey } from '../src/util/list-key.js';

const long = (n: number, at = -1, other = 'CHECK') => Array.from({ length: n }, (_, i) => (i === at ? other : i % 2 ? 'NOOP' : `SELECT "box${i}"`));

test('a short list is its own JSON; a long one a digest of bounded size', () => {
  assert.equal(listKey(['a', 'b']), '["a","b"]');
  assert.equal(listKey([1, 22]), '[1,22]');
  assert.equal(listKey([]), '[]');
  const key = listKey(long(400_000));
  assert.ok(key.length < 64, key);
  assert.ok(key.startsWith('#400000:'), key);
});

test('equal lists share a key, long or short, whoever made them', () => {
  for (const n of [0, 1, 256, 257, 1024, 1025, 5000]) assert.equal(listKey(long(n)), listKey([...long(n)]), `${n} entries`);
  assert.equal(listKey(Array.from({ length: 3000 }, (_, i) => i)), listKey(Array.from({ length: 3000 }, (_, i) => i)));
});

test('lists that differ anywhere have different keys: first, last, at a chunk\'s edge, in length, in type, in how text splits', () => {
  const n = 5000;
  const base = listKey(long(n));
  const keys = new Set([base]);
  for (const at of [0, 1, 1023, 1024, 1025, 2047, 2048, 4095, 4096, n - 1]) keys.add(listKey(long(n, at)));
  assert.equal(keys.size, 11);
  // One entry more or fewer, past the short lists' length and at it.
  assert.notEqual(listKey(long(n + 1)), base);
  assert.notEqual(listKey(long(n - 1)), base);
  assert.notEqual(listKey(long(257)), listKey(long(256)));
  // A number and its text, and entries whose text joined would read the same.
  assert.notEqual(listKey(Array.from({ length: 300 }, () => 1)), listKey(Array.from({ length: 300 }, () => '1')));
  const split = long(300);
  const joined = [...split.slice(0, 10), `${split[10]}","${split[11]}`, ...split.slice(12), 'x'];
  assert.equal(joined.length, split.length);
  assert.notEqual(listKey(joined), listKey([...split.slice(0, 299), 'x']));
});
