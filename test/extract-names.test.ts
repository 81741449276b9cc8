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
