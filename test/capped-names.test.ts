/**
 * CappedNames (src/util/capped-names.ts): the rows names read off the wire are counted in, capped by number and by the
 * characters they keep, so that no capture can make a tally hold more than the cap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CappedNames, MAX_LISTED_CHARS, quotedName } from '../src/util/capped-names.js';
import { DistinctTraits, MAX_ENABLED_NAMES, OTHER_ENABLED } from '../src/compare/distinct.js';
import type { Warning } from '../src/capture/types.js';

test('the first names up to the cap are rows of their own, known ones always; later new ones go to "other", told once', () => {
  const names = new CappedNames(3, '(other)', new Set(['NOOP']));
  const rows = ['A', 'NOOP', 'B', 'A', 'C', 'D', 'NOOP', 'E', 'B', 'D'].map((n) => names.row(n));
  assert.deepEqual(rows, ['A', 'NOOP', 'B', 'A', 'C', '(other)', 'NOOP', '(other)', 'B', '(other)']);
  assert.equal(names.pooled, 3);
  const told = new CappedNames(1, '(other)');
  const firsts = ['A', 'B', 'C', 'B'].map((n) => told.firstPooled(told.row(n)));
  assert.deepEqual(firsts, [false, true, false, false], 'the first name pooled is told, and only it');
});

test(`the names listed keep at most ${MAX_LISTED_CHARS / 1024 / 1024} MiB of characters, whatever their number: a longer new one goes to "other"`, () => {
  const names = new CappedNames(1000, '(other)');
  const line = 'X'.repeat(1024 * 1024 - 8);
  const rows = Array.from({ length: 6 }, (_, i) => names.row(`${i}${line}`));
  assert.deepEqual(rows.map((r) => r === '(other)'), [false, false, false, false, true, true]);
  assert.equal(names.firstPooled(rows[4]!), false, 'told at its own row() call: the caller asks right after it');
  // What still fits is listed; names listed before stay their own rows.
  assert.equal(names.row('short'), 'short');
  assert.equal(names.row(`0${line}`), `0${line}`);
  assert.equal(names.row(`9${'Y'.repeat(1024 * 1024)}`), '(other)');
  // A tally of a smaller budget, as the constructor takes it.
  const small = new CappedNames(10, '(other)', undefined, 10);
  assert.deepEqual(['abcd', 'efgh', 'ijk', 'lm'].map((n) => small.row(n)), ['abcd', 'efgh', '(other)', 'lm']);
});

test('a warning quotes a long name cut to 200 characters', () => {
  assert.equal(quotedName('A "b"'), '"A \\"b\\""');
  const quoted = JSON.parse(quotedName('z'.repeat(5000))) as string;
  assert.equal(quoted.length, 200);
  assert.ok(quoted.endsWith('z…'));
  assert.equal(JSON.parse(quotedName('z'.repeat(200))), 'z'.repeat(200));
});

test('compare\'s traits: enabled extensions past the cap become one "…" each list, in place, by their name in any case', () => {
  const warnings: Warning[] = [];
  const traits = new DistinctTraits((w) => warnings.push(w));
  const first = Array.from({ length: MAX_ENABLED_NAMES }, (_, i) => `X-${i}`);
  assert.equal(traits.enabled(first, 1), first, 'a list within the cap is the same list');
  const later = ['x-0', 'NEW-1', 'X-1', 'NEW-2', 'new-1'];
  assert.deepEqual(traits.enabled(later, 2), ['x-0', OTHER_ENABLED, 'X-1']);
  assert.deepEqual(traits.enabled(['NEW-3', 'x-5'], 3), [OTHER_ENABLED, 'x-5']);
  assert.deepEqual(warnings.map((w) => [w.conn, w.frame]), [[2, null]]);
  assert.match(warnings[0]!.message, /: "NEW-1" and every later new one are compared as one, "…"$/);
  assert.equal(traits.clientName(null, 4), null);
  assert.equal(traits.authMechanism(null, 4), null);
  assert.equal(warnings.length, 1);
});
