/** COMPRESS=DEFLATE: one compressed chunk may not inflate past MAX_INFLATE_PER_CHUNK (a decompression bomb). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, deflateRawSync } from 'node:zlib';
import { MAX_INFLATE_PER_CHUNK, RawInflater } from '../src/imap/inflate.js';
import { runSession } from './helpers/imap.js';

const compress = (b: Buffer) => deflateRawSync(b, { finishFlush: constants.Z_SYNC_FLUSH, level: 9 });

test('a segment inflating past the cap stops that side with a warning naming its frame; smaller ones pass', () => {
  const bomb = compress(Buffer.concat([Buffer.from('* 1 FETCH (BODY[] {17000000}\r\n'), Buffer.alloc(17_000_000, 0x41)]));
  assert.ok(bomb.length < 64 * 1024, `the bomb fits one segment (${bomb.length} bytes)`);
  const fine = compress(Buffer.from('* 2 EXISTS\r\nz2 OK done\r\n'));
  const { warnings, exchanges } = runSession([
    ['server', '* OK ready\r\n'],
    ['client', 'z1 COMPRESS DEFLATE\r\n'],
    ['server', 'z1 OK on\r\n'],
    ['client', compress(Buffer.from('z2 NOOP\r\n'))],
    ['server', fine],
    ['client', compress(Buffer.from('z3 NOOP\r\n'))],
    ['server', bomb],
  ]);
  assert.equal(exchanges.find((e) => e.tag === 'z2')?.status, 'OK', 'compressed exchanges below the cap are dissected');
  const w = warnings.find((x) => /inflate to more than/.test(x.message));
  assert.ok(w, JSON.stringify(warnings));
  assert.equal(w.frame, 7, 'the warning names the frame of the bomb');
  assert.match(w.message, new RegExp(`cannot inflate the server side after COMPRESS \\(${bomb.length} compressed bytes inflate to more than ${MAX_INFLATE_PER_CHUNK} bytes\\)`));
});

test('RawInflater: output up to the cap is returned, one byte over fails and stays failed', () => {
  const data = compress(Buffer.alloc(1000, 0x42));
  assert.equal(new RawInflater(1000).push(data)?.length, 1000);
  const small = new RawInflater(999);
  assert.equal(small.push(data), null);
  assert.match(small.failed ?? '', /inflate to more than 999 bytes/);
  assert.equal(small.push(compress(Buffer.from('x'))), null, 'a failed stream stays failed');
});
