/** Lines held as UTF-8 octets outside the heap (the fetch tracker's held records), and the writer that spills them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatheredWriter } from '../src/util/gathered-writer.js';
import { LineArena } from '../src/util/line-arena.js';
import { seededRandom } from './helpers/random.js';

/** Lines of every kind a record holds: ASCII, Latin-1, CJK, astral (two UTF-16 units), empty, and long. */
function sampleLines(count: number): string[] {
  const random = seededRandom(7);
  const pieces = ['INBOX', 'Grüße', '日本語の件名', '😀 party', '', 'x'.repeat(5000), '"quoted" \\ back', 'line\n'];
  return Array.from({ length: count }, (_, i) => `${i}:${pieces[Math.floor(random() * pieces.length)]}${pieces[i % pieces.length]}`);
}

test('an arena gives back every line as it was added, through growth from a small buffer and after clear()', () => {
  const arena = new LineArena(16);
  for (const round of [0, 1]) {
    const lines = sampleLines(2000 + round);
    const numbers = lines.map((l) => arena.add(l));
    assert.deepEqual(numbers, lines.map((_, i) => i), 'lines are numbered in order from 0');
    assert.equal(arena.count, lines.length);
    lines.forEach((line, i) => {
      assert.equal(arena.textOf(i), line, `round ${round}, line ${i}`);
      assert.deepEqual(arena.octetsOf(i), Buffer.from(line, 'utf8'), `round ${round}, octets of line ${i}`);
    });
    arena.clear();
    assert.equal(arena.count, 0);
  }
});

test('octets and text gathered into one file come out in order, a run longer than the buffer included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-arena-test-'));
  try {
    const arena = new LineArena();
    const lines = sampleLines(300).map((l) => `${l}\n`);
    // Beyond the writer's 64 KiB buffer, one each way (line 300 as text, 301 as octets).
    lines.push(`${'y'.repeat(70_000)}\n`, `${'z'.repeat(70_000)}\n`);
    const writer = new GatheredWriter(join(dir, 'run'));
    let expected = '';
    lines.forEach((line, i) => {
      // Alternate the two ways in, as a spill mixes held lines and records encoded on the spot.
      if (i % 3 === 0) writer.write(line);
      else writer.writeOctets(arena.octetsOf(arena.add(line)));
      expected += line;
    });
    assert.equal(writer.size, Buffer.byteLength(expected), 'size counts octets');
    writer.close();
    assert.equal(readFileSync(writer.path, 'utf8'), expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
