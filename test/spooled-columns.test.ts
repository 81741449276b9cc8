/**
 * SpooledColumns (src/util/spooled-columns.ts): rows of numbers appended to a file a block at a time, read back whole.
 * What comes back must be what went in, with a file or without, whatever the number of rows and the block's size; and
 * with a file, the full blocks are on disk, not in memory, until they are read back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpooledColumns } from '../src/util/spooled-columns.js';
import { seededInt } from './helpers/random.js';

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-spooled-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const TYPES = { id: Uint32Array, ms: Float64Array, name: Uint32Array };
let files = 0;

test('rows come back as they went in, with a file and without, for any count and block size', () => {
  const int = seededInt(11);
  for (let run = 0; run < 300; run++) {
    const blockRows = 1 + int(9);
    const count = int(60);
    const rows = Array.from({ length: count }, () => [int(2 ** 32), int(1e6) / 7 - 100, int(50)]);
    for (const file of [null, join(tmp, `run-${files++}`)]) {
      const spool = new SpooledColumns(TYPES, file, blockRows);
      for (const row of rows) spool.push(row);
      assert.equal(spool.size, count);
      const back = spool.take();
      assert.equal(back.size, count);
      assert.ok(back.id instanceof Uint32Array && back.ms instanceof Float64Array);
      assert.deepEqual([...back.id], rows.map((r) => r[0]), `${count} rows, blocks of ${blockRows}, ${file ? 'file' : 'held'}`);
      assert.deepEqual([...back.ms], rows.map((r) => r[1]));
      assert.deepEqual([...back.name], rows.map((r) => r[2]));
      if (file) assert.equal(existsSync(file), false, 'the file goes once read back');
    }
  }
});

test('with a file, the full blocks go to it as the rows come: all but the last 64 KiB gathered for one write', () => {
  const file = join(tmp, 'blocks');
  const spool = new SpooledColumns(TYPES, file, 4);
  const rowBytes = 4 + 8 + 4;
  const count = 40_003;
  for (let i = 0; i < count; i++) spool.push([i, i / 2, i * 3]);
  const full = (count - (count % 4)) * rowBytes;
  const onDisk = statSync(file).size;
  assert.ok(onDisk <= full && onDisk >= full - 64 * 1024, `${onDisk} of ${full} bytes of full blocks in the file`);
  const back = spool.take();
  assert.deepEqual([...back.id.subarray(count - 5)], [39998, 39999, 40000, 40001, 40002]);
  assert.equal(back.ms[20_001], 20_001 / 2);
  assert.equal(back.name[count - 1], (count - 1) * 3);
});
