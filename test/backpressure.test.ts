/**
 * Output that cannot keep up holds reading back: a capture written to a slow pipe must not pile its
 * output up in memory. The reader asks its control for room before every piece of a chunk and waits while told to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLog } from '../src/tls/keylog.js';
import { PACED_BYTES, readCapture, type CaptureInput, type CaptureResult } from '../src/capture/reader.js';
import { CAPTURES } from './helpers/env.js';
import { TcpFlow, writeCapture, type SynthPacket } from './helpers/synth.js';
import { streamCapture } from '../src/pipeline.js';

/**
 * Read `input` with an output that has no room once, at the reader's `holdAt`-th question: the reader must stop there
 * (no frame read while held), and read every frame once room comes back. Returns how far it had read when held.
 */
async function readHeldOnce(input: CaptureInput, holdAt: number): Promise<{ framesWhenHeld: number; frames: number; asked: number; result: CaptureResult }> {
  let frames = 0;
  let asked = 0;
  let release: (() => void) | null = null;
  let framesWhenHeld = -1;
  const reading = readCapture(input, () => { frames++; }, () => {}, undefined, {
    room: () => {
      if (++asked !== holdAt) return null;
      framesWhenHeld = frames;
      return new Promise<void>((resolve) => { release = resolve; });
    },
  });
  // Let the reader run as far as it can: it must stop where it was held.
  for (let i = 0; i < 50 && release === null; i++) await new Promise((r) => setImmediate(r));
  assert.ok(release !== null, `the reader asked for room ${holdAt} times`);
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(frames, framesWhenHeld, 'no frame is read while the output has no room');
  release!();
  const result = await reading;
  assert.equal(frames, result.info.frames, 'every frame once room came back');
  return { framesWhenHeld, frames, asked, result };
}

test('reading waits while the output has no room, and goes on to the end when it has (fetchmail, in 4 KiB chunks)', async () => {
  const bytes = readFileSync(join(CAPTURES, 'fetchmail.pcap'));
  const chunks = function* () {
    for (let at = 0; at < bytes.length; at += 4096) yield bytes.subarray(at, at + 4096);
  };
  const all = (await readCapture(bytes, () => {}, () => {})).info.frames;
  // Full after the tenth chunk: held there once.
  const held = await readHeldOnce({ name: 'fetchmail.pcap', chunks: chunks() }, 10);
  assert.ok(held.framesWhenHeld < all, `held part way (${held.framesWhenHeld} of ${all} frames)`);
  assert.equal(held.frames, all);
  assert.ok(held.asked > 10, 'room asked for after every chunk');
});

test('a chunk bigger than a pace is parsed in pieces, with room asked before each (output can be many times its input)', async () => {
  const bytes = readFileSync(join(CAPTURES, 'offlineimap.pcapng'));
  assert.ok(bytes.length > PACED_BYTES, 'the capture is more than one pace');
  const all = (await readCapture(bytes, () => {}, () => {})).info.frames;
  // The whole file as one chunk: only the pacing can stop the reader inside it.
  const held = await readHeldOnce({ name: 'offlineimap.pcapng', chunks: [bytes] }, 2);
  assert.ok(held.framesWhenHeld > 0 && held.framesWhenHeld < all, `held inside the chunk (${held.framesWhenHeld} of ${all} frames)`);
  assert.equal(held.frames, all, 'none lost or doubled at the cut');
  assert.equal(held.asked, Math.ceil(bytes.length / PACED_BYTES), 'room asked for before each piece');
});

test('connections still open at the end of the input are ended a batch at a time, each batch once the output has room', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-ending-'));
  try {
    const path = join(dir, 'open.pcap');
    const packets: SynthPacket[] = [];
    for (let i = 0; i < 1000; i++) {
      const f = new TcpFlow({ client: { ip: `10.9.${i >> 8}.${i & 255}`, port: 40000 }, start: 1_700_000_000 + i * 0.001 });
      packets.push(...f.handshake(), ...f.send('server', '* OK ready\r\n'));
    }
    writeCapture(path, { format: 'pcap', packets });
    let closed = 0;
    let release: (() => void) | null = null;
    let closedWhenHeld = -1;
    const asks: number[] = [];
    const sink = { open: () => undefined, data: () => {}, gap: () => {}, close: () => { closed++; } };
    const pass = streamCapture(path, sink, () => {}, {
      room: () => {
        asks.push(closed);
        // Hold once, in the middle of the ending.
        if (closed === 0 || release !== null || closedWhenHeld >= 0) return null;
        closedWhenHeld = closed;
        return new Promise<void>((resolve) => { release = resolve; });
      },
    });
    // Reading the file takes the thread pool's time: wait for the ending (or the pass's end) by the clock.
    for (let i = 0; i < 500 && release === null; i++) await Promise.race([pass, new Promise((r) => setTimeout(r, 10))]);
    assert.ok(release !== null, 'room was asked for while the open connections were ended');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(closed, closedWhenHeld, 'no connection is ended while the output has no room');
    assert.ok(closed > 0 && closed < 1000, `held part way through the ending (${closed} of 1000)`);
    release!();
    await pass;
    assert.equal(closed, 1000, 'every connection ended once room came back');
    assert.ok(asks.filter((n) => n > 0).length >= 3, `room asked for between batches (${asks.filter((n) => n > 0).join(' ')})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a capture read in this thread by the pool (--jobs 1) is held back by the output too', async () => {
  const { inOrder } = await import('../src/parallel/pool.js');
  let asked = 0;
  const input = { path: join(CAPTURES, 'fetchmail.pcap'), settings: { ports: [143, 993], keySecrets: new KeyLog().secrets }, filter: undefined, keepSelected: false };
  for await (const r of inOrder('analysis', [input], 1, () => {}, { room: () => { asked++; return null; } })) {
    assert.ok(r.analysis.connections.length > 0);
  }
  assert.ok(asked > 0, 'the output was asked for room while the capture was read');
});

test('fetches --json written after reading waits for room between its pieces too (a generated folder sync, hundreds of messages)', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { generateCapture } = await import('../bench/gen-capture.js');
  const { fetchesOfCapture, MESSAGES_CHANNEL } = await import('../src/cli/fetches-capture.js');
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-room-'));
  try {
    const capture = join(dir, 'sync.pcap');
    await generateCapture({ out: capture, mb: 0.5, mix: 'sync', seed: 3 });
    const settings = { ports: [143, 993], keySecrets: new KeyLog().secrets };
    const input = { path: capture, settings, conn: undefined, filter: undefined, ndjson: false, json: true, multi: false };
    let pieces = 0;
    let held = false;
    let piecesWhenHeld = -1;
    let release: (() => void) | null = null;
    let holding: () => void = () => {};
    const heldNow = new Promise<string>((resolve) => { holding = () => resolve('held'); });
    const writing = fetchesOfCapture(input, (channel) => { if (channel === MESSAGES_CHANNEL) pieces++; }, {
      room: () => {
        // Full once the document has begun: hold it there.
        if (pieces !== 1 || held) return null;
        held = true;
        piecesWhenHeld = pieces;
        holding();
        return new Promise<void>((resolve) => { release = resolve; });
      },
    });
    const first = await Promise.race([heldNow, writing.then(() => 'finished')]);
    assert.equal(first, 'held', 'room was asked for once the first piece was written, before the document was done');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(pieces, piecesWhenHeld, 'no piece is written while the output has no room');
    release!();
    await writing;
    assert.ok(pieces > 3, `the rest was written once room came back (${pieces} pieces)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker gate: closed, the worker side waits until what closed it settles; then open again', async () => {
  const { WorkerGates, gateRoom } = await import('../src/parallel/gates.js');
  const gates = new WorkerGates(2);
  const room = [gateRoom(gates.buffer, 0), gateRoom(gates.buffer, 1)];
  assert.equal(room[0]!(), null, 'open at first');
  let resume: () => void = () => {};
  gates.pause(0, new Promise<void>((resolve) => { resume = resolve; }));
  const waiting = room[0]!();
  assert.ok(waiting instanceof Promise, 'closed: the worker side gets a promise');
  assert.equal(room[1]!(), null, 'the other slot stays open');
  let opened = false;
  void waiting!.then(() => { opened = true; });
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  assert.equal(opened, false, 'still closed while what closed it is pending');
  resume();
  await waiting;
  assert.equal(room[0]!(), null, 'open again');
  // A failed wait (stdout closed) opens the gate too, and openAll opens whatever is still closed.
  gates.pause(1, Promise.reject(new Error('closed')));
  await room[1]!();
  gates.pause(0, new Promise<void>(() => {}));
  const stuck = room[0]!();
  gates.openAll();
  await stuck;
  assert.equal(room[0]!(), null);
});

/**
 * Two generated folder syncs of `mb` MiB each, as `commands --json` inputs, and their rows under `inOrder` with `jobs`,
 * the output's `room` and the files' `sizes` (which capture the main thread's job takes): `rowsOf` gives the rows.
 */
async function withTwoSyncs(mb: number, seed: number, use: (rowsOf: (jobs: number, room?: () => Promise<void> | null, sizes?: number[], rows?: string[]) => Promise<string[]>) => Promise<void>): Promise<void> {
  const { generateCapture } = await import('../bench/gen-capture.js');
  const { inOrder } = await import('../src/parallel/pool.js');
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-jobs-'));
  try {
    const paths = [join(dir, 'a.pcap'), join(dir, 'b.pcap')];
    for (const [i, path] of paths.entries()) await generateCapture({ out: path, mb, mix: 'sync', seed: seed + i });
    const settings = { ports: [143, 993], keySecrets: new KeyLog().secrets };
    const flags = { json: true, t: 'r' as const };
    const inputs = paths.map((path) => ({ path, settings, multi: true, conn: undefined, filter: undefined, flags, command: null, showSecrets: false, keepSelected: false }));
    await use(async (jobs, room, sizes, rows = []) => {
      for await (const r of inOrder('commands', inputs, jobs, (channel, text) => { if (channel === 'row') rows.push(text); }, { room }, { sizes })) void r;
      return rows;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('--jobs 2: workers are asked for room through the output, and their rows come out as with --jobs 1 (two generated folder syncs)', async () => {
  // Over a megabyte each: several read chunks, so a worker meets its gate part way.
  await withTwoSyncs(1.5, 11, async (rowsOf) => {
    const alone = await rowsOf(1);
    assert.ok(alone.length > 300, `rows: ${alone.length}`);
    // The main thread's job takes the capture at the head (sizes say it is the larger), or the other one.
    for (const sizes of [[2, 1], [1, 2]]) {
      let held = 0;
      const paced = await rowsOf(2, () => {
        // Whenever asked, the output is full until the event loop turns: the head's job waits meanwhile.
        held++;
        return new Promise<void>((resolve) => setImmediate(resolve));
      }, sizes);
      // Asked every 64 KiB of rows (about 200 here) of the capture at the head.
      assert.ok(held >= 2, `the output was full ${held} times while the head's job sent rows (sizes ${sizes})`);
      assert.deepEqual(paced, alone, `the same rows in the same order (sizes ${sizes})`);
    }
  });
});

test('--jobs 2: the job whose capture is at the head stops reading while the output is full, in the main thread or in a worker', async () => {
  // Four read chunks each: a job that does not wait has read its whole capture long before the output drains.
  await withTwoSyncs(4, 21, async (rowsOf) => {
    // The main thread's job has the head (its capture is the larger), then a worker has it.
    for (const sizes of [[2, 1], [1, 2]]) {
      const rows: string[] = [];
      let whileFull: number | null = null;
      let asked = false;
      const room = () => {
        if (asked) return null;
        asked = true;
        // The first time asked, the output stays full for 300 ms: count what the head's job sent meanwhile.
        const before = rows.length;
        return new Promise<void>((resolve) => setTimeout(() => {
          whileFull = rows.length - before;
          resolve();
        }, 300));
      };
      await rowsOf(2, room, sizes, rows);
      const head = rows.filter((row) => row.includes('a.pcap')).length;
      assert.ok(whileFull !== null, `the output was asked for room (sizes ${sizes})`);
      // It finishes the chunk it is in, then waits: far from the whole capture.
      assert.ok(whileFull < head / 2, `${whileFull} of ${head} rows sent while the output was full (sizes ${sizes})`);
    }
  });
});
