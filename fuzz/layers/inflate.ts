import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { RawInflater } from '../../src/imap/inflate.js';
import { check } from '../invariants.js';
import type { Layer } from '../layer.js';
import type { Rng } from '../rng.js';
import { recordedStreams } from '../seeds.js';

/** zlib's own answer for the same bytes, or null when zlib refuses them. */
function zlibInflate(input: Buffer): Buffer | null {
  try {
    return inflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return null;
  }
}

function generate(rng: Rng): Buffer {
  const text = Buffer.from(`* ${rng.int(1000)} FETCH (BODY[] {40}\r\n${'x'.repeat(rng.small(5000))}\r\n)\r\na1 OK done\r\n`);
  return deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH, level: rng.int(10) });
}

/**
 * COMPRESS=DEFLATE inflation, fed in chunks (the chunk size is in the first byte). Once it fails it
 * stays failed; while it succeeds its output is exactly what zlib makes of the same bytes (pako and
 * zlib must agree), and one chunk never yields more than the expansion cap.
 */
export const inflateLayer: Layer = {
  name: 'inflate',
  about: 'COMPRESS=DEFLATE raw inflate (pako, incremental, Z_SYNC_FLUSH), checked against zlib',
  seeds: () => recordedStreams('server').slice(0, 6).map((s) => Buffer.concat([Buffer.from([0x40]), deflateRawSync(s.subarray(0, 16384), { finishFlush: constants.Z_SYNC_FLUSH })])),
  generate: (rng) => Buffer.concat([Buffer.from([rng.int(256)]), generate(rng)]),
  run(input) {
    if (input.length === 0) return;
    const data = input.subarray(1);
    const chunk = 1 + input[0]! * 16;
    const inflater = new RawInflater();
    const out: Buffer[] = [];
    let failed = false;
    for (let i = 0; i < data.length; i += chunk) {
      const piece = inflater.push(data.subarray(i, i + chunk));
      if (piece === null) failed = true;
      else {
        check(!failed, 'output after the stream failed');
        out.push(Buffer.from(piece));
      }
    }
    if (failed) return;
    const expected = zlibInflate(data);
    if (expected === null) return;
    const got = Buffer.concat(out);
    check(got.equals(expected.subarray(0, got.length)), `pako and zlib disagree (${got.length} vs ${expected.length} bytes)`);
  },
};
