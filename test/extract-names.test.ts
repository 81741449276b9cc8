import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UniqueNames, safeComponent } from '../src/extract/names.js';

test('hostile file names are made safe, short and unique', () => {
  const names = new UniqueNames();
  const hostile = ['../../x', '/etc/passwd', '..', '.hidden', 'a\x1b[31mred\x07.txt', 'x'.repeat(300) + '.pdf', 'C:\\win\\evil.exe', 'rtl\u202eexe.txt', 'same.txt', 'SAME.txt', ''];
  const out = hostile.map((h) => names.take(safeComponent(h)));
  for (const name of out) {
    assert.ok(!name.includes('/') && !name.includes('\\'), name);
    assert.ok(!name.startsWith('.'), name);
    assert.ok(!/[\x00-\x1f\x7f-\x9f\u202e]/.test(name), name);
    assert.ok(Buffer.byteLength(name) <= 120, name);
    assert.notEqual(name, '..');
  }
  assert.equal(new Set(out.map((n) => n.toLowerCase())).size, out.length, 'unique, even case-insensitively');
  assert.match(out[5]!, /\.pdf$/, 'a long name keeps its extension');
  assert.equal(safeComponent('Prüfbericht Köln.txt'), 'Prüfbericht Köln.txt', 'ordinary non-ASCII names pass');
});

test('FingerprintSet: every string added is present, through the table\'s growth; others are not (fingerprints of 64 bits)', async () => {
  const { FingerprintSet } = await import('../src/extract/names.js');
  const set = new FingerprintSet();
  const added = Array.from({ length: 50_000 }, (_, i) => `INBOX-uid${i}-HEADER.FIELDS_FROM_TO_SUBJECT_.txt`);
  for (const [i, s] of added.entries()) {
    set.add(s);
    if (i % 7 === 0) set.add(s); // again: counted once
  }
  assert.equal(set.size, added.length);
  assert.ok(added.every((s) => set.has(s)), 'no string added is missing');
  // Near misses (one unit apart, or a prefix) are not taken for those added.
  const others = added.flatMap((s) => [`${s}x`, s.slice(0, -1), s.replace('uid', 'Uid')]);
  assert.equal(others.filter((s) => set.has(s)).length, 0);
  assert.ok(!set.has('') && !set.has('\u0000'));
});
