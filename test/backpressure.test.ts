/**
 * Output that cannot keep up holds reading back: a capture written to a slow pipe must not pile its
 * output up in memory. The reader asks its control for room after every chunk and waits while told to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../src/capture/reader.js';
import { CAPTURES } from './helpers/env.js';

test('reading waits while the output has no room, and goes on to the end when it has (fetchmail, in 4 KiB chunks)', async () => {
  const bytes = readFileSync(join(CAPTURES, 'fetchmail.pcap'));
  const chunks = function* () {
    for (let at = 0; at < bytes.length; at += 4096) yield bytes.subarray(at, at + 4096);
  };
  const all = (await readCapture(bytes, () => {}, () => {})).info.frames;

  let frames = 0;
  let asked = 0;
  let release: (() => void) | null = null;
  let framesWhenHeld = -1;
  const reading = readCapture({ name: 'fetchmail.pcap', chunks: chunks() }, () => { frames++; }, () => {}, undefined, {
    room: () => {
      asked++;
      // Full after the tenth chunk: hold reading there once.
      if (asked !== 10) return null;
      framesWhenHeld = frames;
      return new Promise<void>((resolve) => { release = resolve; });
    },
  });
  // Let the reader run as far as it can: it must stop at the held chunk.
  for (let i = 0; i < 50 && release === null; i++) await new Promise((r) => setImmediate(r));
  assert.ok(release !== null, 'the reader asked for room');
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(frames, framesWhenHeld, 'no frame is read while the output has no room');
  assert.ok(frames < all, `held part way (${frames} of ${all} frames)`);
  release!();
  const result = await reading;
  assert.equal(result.info.frames, all, 'every frame once room came back');
  assert.equal(frames, all);
  assert.ok(asked > 10, 'room asked for after every chunk');
});

test('a capture read in this thread by the pool (--jobs 1) is held back by the output too', async () => {
  const { inOrder } = await import('../src/parallel/pool.js');
  let asked = 0;
  const input = { path: join(CAPTURES, 'fetchmail.pcap'), settings: { ports: [143, 993], keylogTexts: [] }, filter: undefined, keepSelected: false };
  for await (const r of inOrder('analysis', [input], 1, () => {}, { room: () => { asked++; return null; } })) {
    assert.ok(r.analysis.connections.length > 0);
  }
  assert.ok(asked > 0, 'the output was asked for room while the capture was read');
});
