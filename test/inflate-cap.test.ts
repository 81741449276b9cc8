/** COMPRESS=DEFLATE: one compressed chunk may not inflate past MAX_INFLATE_PER_CHUNK (a decompression bomb). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, deflateRawSync } from 'node:zlib';
import { Deflate, Z_NO_FLUSH, Z_PARTIAL_FLUSH, Z_SYNC_FLUSH } from 'pako';
import { MAX_INFLATE_PER_CHUNK, MAX_PARKED_WINDOW, RawInflater } from '../src/imap/inflate.js';
import { seededInt } from './helpers/random.js';
import { withScaleCapture } from './helpers/scale.js';
import { analyzeCapture } from '../src/analysis/analyzer.js';
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

/**
 * A peer's stream: messages deflated one after another, each flushed as `flushes` says (a sync flush leaves the stream
 * between blocks on a byte boundary; a partial flush between blocks but not on one; none, in the middle of a block).
 */
function peerStream(messages: Buffer[], flushes: number[]): Buffer {
  const deflater = new Deflate({ raw: true, level: 6 });
  const out: Buffer[] = [];
  deflater.onData = (chunk: Uint8Array) => { out.push(Buffer.from(chunk)); };
  messages.forEach((m, i) => deflater.push(m, flushes[i % flushes.length] as 0 | 1 | 2));
  return Buffer.concat(out);
}

test('RawInflater parks between blocks and resumes with its window: the output is the same bytes, however the stream is cut', () => {
  const int = seededInt(4978);
  // Lines that repeat across messages far apart, so that later blocks copy from what came before a park (more than the
  // 32 KiB window in all, so the window wraps around).
  const words = ['* 12 FETCH (UID 4711 FLAGS (\\Seen))', 'a17 OK Fetch completed.', 'Subject: quarterly report', 'From: alice@example.org', '+ idling', 'a3 IDLE'];
  const messages = Array.from({ length: 400 }, (_, i) => Buffer.from(Array.from({ length: 1 + int(12) }, () => `${words[int(words.length)]} ${int(1000) < 900 ? i % 7 : int(1e6)}\r\n`).join(''), 'latin1'));
  const whole = Buffer.concat(messages);
  assert.ok(whole.length > 40 * 1024, `${whole.length} bytes in all`);
  for (const [flushes, name] of [[[Z_SYNC_FLUSH], 'a sync flush after each'], [[Z_SYNC_FLUSH, Z_NO_FLUSH, Z_PARTIAL_FLUSH], 'sync, none and partial flushes']] as const) {
    const stream = peerStream(messages, [...flushes]);
    for (let round = 0; round < 20; round++) {
      // Parked whatever its window holds (the window wraps around), or only while it holds little (the default).
      const inflater = round % 4 < 2 ? new RawInflater(MAX_INFLATE_PER_CHUNK, 32 * 1024) : new RawInflater();
      const out: Buffer[] = [];
      let parks = 0;
      for (let at = 0; at < stream.length;) {
        // Segments of any length, often ending where a message's flush did.
        const end = Math.min(stream.length, at + 1 + int(round % 2 === 0 ? 1448 : 60));
        out.push(inflater.push(stream.subarray(at, end))!);
        if (inflater.parked) parks++;
        at = end;
      }
      assert.equal(inflater.failed, null, `${name}, round ${round}`);
      assert.ok(Buffer.concat(out).equals(whole), `${name}, round ${round}: the same bytes`);
      if (round % 4 < 2) assert.ok(parks > 0, `${name}, round ${round}: parked ${parks} times`);
    }
    // Pushed message by message (as a peer sends them, one segment each), it parks after every sync flush while what it
    // produced fits MAX_PARKED_WINDOW, and not once past it.
    const perMessage = new RawInflater();
    let inflated = 0;
    let parkedPast = 0;
    let parkedAfterSync = 0;
    let syncs = 0;
    const deflater = new Deflate({ raw: true, level: 6 });
    let pending: Buffer[] = [];
    deflater.onData = (chunk: Uint8Array) => { pending.push(Buffer.from(chunk)); };
    const out: Buffer[] = [];
    messages.forEach((m, i) => {
      const flush = flushes[i % flushes.length]!;
      deflater.push(m, flush);
      const segment = Buffer.concat(pending);
      pending = [];
      out.push(perMessage.push(segment)!);
      inflated += m.length;
      if (inflated > MAX_PARKED_WINDOW) {
        if (perMessage.parked) parkedPast++;
      } else if (flush === Z_SYNC_FLUSH) {
        syncs++;
        if (perMessage.parked) parkedAfterSync++;
      }
    });
    assert.equal(parkedPast, 0, `${name}: running past ${MAX_PARKED_WINDOW} bytes`);
    assert.ok(syncs > 3, `${syncs} sync flushes within the bound`);
    assert.ok(Buffer.concat(out).equals(whole), `${name}: message by message, the same bytes`);
    assert.equal(parkedAfterSync, syncs, `${name}: parked after every sync flush`);
  }
});

test('an idle direction after COMPRESS keeps what it inflated, not an inflater', () => {
  const inflater = new RawInflater();
  const said = Buffer.from('* OK [READ-WRITE] done\r\n+ idling\r\n');
  assert.ok(inflater.push(compress(said))!.equals(said));
  assert.equal(inflater.parked, true);
  // Nothing but its fields: the window as text of what it inflated, no zlib stream, no buffer.
  const fields = Object.values(inflater);
  assert.ok(fields.every((v) => v === null || typeof v !== 'object'), JSON.stringify(fields.map((v) => typeof v)));
  assert.ok(fields.includes(said.toString('latin1')), 'the window is what it inflated');
});

test('many push clients after COMPRESS (the bench\'s idling-compress): every command of every connection is dissected', async () => {
  await withScaleCapture('idling-compress', 30, async (path, made) => {
    const seen: string[] = [];
    const analysis = await analyzeCapture(path, { onExchange: (ex) => { seen.push(`${ex.conn} ${ex.command} ${ex.status}`); } });
    assert.equal(seen.length, made.exchanges, 'what the generator says a dissector must report');
    assert.deepEqual(seen.filter((e) => e.startsWith('12 ')), ['12 LOGIN OK', '12 COMPRESS OK', '12 SELECT OK', '12 IDLE null']);
    assert.ok(analysis.connections.every((c) => c.compress !== null && c.selected?.exists === 40 + c.conn.id), 'each one compressed and its mailbox read');
    assert.deepEqual(analysis.warnings, []);
  });
});

test('a direction past MAX_PARKED_WINDOW keeps its inflater running, but not the output chunk of its last push', () => {
  const deflater = new Deflate({ raw: true });
  let segment: Buffer[] = [];
  deflater.onData = (chunk: Uint8Array) => { segment.push(Buffer.from(chunk)); };
  const inflater = new RawInflater();
  for (let i = 0; i < 40; i++) {
    const text = Buffer.from(`* ${i + 1} FETCH (UID ${i + 100} FLAGS (\\Seen) BODY[HEADER] {200}\r\n${'x'.repeat(200)})\r\n`);
    deflater.push(text, Z_SYNC_FLUSH);
    assert.ok(inflater.push(Buffer.concat(segment))!.equals(text));
    segment = [];
  }
  assert.equal(inflater.parked, false, 'more than MAX_PARKED_WINDOW inflated');
  // What it holds between pushes: zlib's 32 KiB window and tables, no 64 KiB chunk.
  const sizes: number[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) sizes.push(v.byteLength);
    else for (const x of Object.values(v)) walk(x);
  };
  walk(inflater);
  assert.ok(sizes.includes(32 * 1024), `the window among ${JSON.stringify(sizes)}`);
  assert.ok(sizes.every((n) => n <= 32 * 1024), JSON.stringify(sizes));
});
