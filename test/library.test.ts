/** The library API as a user's own test would use it: import from the package name, assert facts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyze, check, exchanges, CaptureError, RulesError, type Exchange, type Rules, type Connection, type Message } from 'imapscope';
import { CAPTURES, ROOT } from './helpers/env.js';
import { cliJson } from './helpers/cli.js';
import { pacedExchanges } from '../src/api/stream.js';

test('import { analyze } from "imapscope": the typed model of a real capture', async () => {
  const a = await analyze(join(CAPTURES, 'seed-alice.pcap'));
  assert.equal(a.connections.length, 3);
  assert.equal(a.concurrency.max, 2);
  assert.ok(a.exchanges.every((e) => e.status === 'OK'), 'every command succeeded');
  assert.ok(a.connections.every((c) => c.user === 'alice' && c.cleartextAuth));
  assert.equal(a.commands.find((c) => c.command === 'LOGIN')?.count, 3);
  assert.equal(a.messages.filter((m) => m.structureFrom === 'BODYSTRUCTURE').length, 8);
  assert.equal(a.messages.filter((m) => m.structureFrom === 'message').length, 1, 'the one fetched whole');
  assert.deepEqual(a.warnings, []);
});

test('check() from code: the rules of a rules file, with failures naming connection, tag and frames', async () => {
  const ok = await check(join(CAPTURES, 'seed-alice.pcap'), { noBad: true, maxConcurrent: 2, allCompleted: true });
  assert.equal(ok.passed, true, JSON.stringify(ok.results));
  const bad = await check(join(CAPTURES, 'seed-alice.pcap'), { noPlaintextAuth: true });
  assert.equal(bad.passed, false);
  const failures = bad.results[0]!.failures;
  assert.equal(failures.length, 3);
  assert.ok(failures.every((f) => f.command === 'LOGIN' && f.requestFrame !== null && f.tag !== null));
  // @ts-expect-error: a misspelled rule name does not compile (and is refused at run time too)
  await assert.rejects(check(join(CAPTURES, 'seed-alice.pcap'), { noSuchRule: 1 }), (err: Error) => err instanceof RulesError && /noSuchRule/.test(err.message));
});

const seedPath = join(CAPTURES, 'seed-alice.pcap');

/** What analyze() says about a capture, reduced to facts that must not depend on how it was handed in. */
function facts(a: { connections: Connection[]; exchanges: Exchange[]; messages: Message[]; capture: { frames: number; gzip: boolean } }) {
  return {
    frames: a.capture.frames,
    connections: a.connections.map((c) => [c.conn.id, c.user, c.commands]),
    exchanges: a.exchanges.map((e) => [e.conn, e.tag, e.command, e.status, e.start, e.latencyMs]),
    messages: a.messages.map((m) => [m.mailbox, m.uid, m.fetches.length]),
  };
}

test('analyze() takes a path, a Buffer, a Uint8Array, gzip bytes or a readable stream, with the same result', async () => {
  const bytes = readFileSync(seedPath);
  const fromPath = await analyze(seedPath);
  const expected = facts(fromPath);
  assert.equal(expected.exchanges.length, 36);
  assert.deepEqual(facts(await analyze(bytes)), expected);
  assert.deepEqual(facts(await analyze(new Uint8Array(bytes))), expected);
  const gz = await analyze(gzipSync(bytes));
  assert.equal(gz.capture.gzip, true);
  assert.deepEqual(facts(gz), expected);
  assert.deepEqual(facts(await analyze(createReadStream(seedPath, { highWaterMark: 700 }))), expected);
  assert.equal((await analyze(bytes)).capture.path, '<buffer>');
  await assert.rejects(analyze(Buffer.from('not a capture at all')), CaptureError);
  await assert.rejects(analyze(join(CAPTURES, 'no-such-file.pcap')), (e: Error) => e instanceof CaptureError && /no such file/.test(e.message));
});

test('exchanges carry latencyMs and ISO times exactly as commands --json prints them', async () => {
  const a = await analyze(seedPath);
  const json = cliJson(['commands', '--json', seedPath]).exchanges as { start: string; end: string; latencyMs: number; tag: string }[];
  assert.deepEqual(a.exchanges.map((e) => [e.tag, e.start, e.end, e.latencyMs]), json.map((e) => [e.tag, e.start, e.end, e.latencyMs]));
  assert.match(a.exchanges[0]!.start!, /^2026-11-28T\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(typeof a.exchanges[0]!.startTime!.sec, 'number', 'exact times are kept beside the ISO text');
});

test('options: ports as --port, key logs as paths or text as --keylog', async () => {
  assert.equal((await analyze(seedPath, { ports: [993] })).connections.length, 0);
  const tls = join(CAPTURES, 'imaps-tls13.pcap');
  const keyPath = join(CAPTURES, 'imaps-tls13.keys');
  const without = await analyze(tls);
  assert.equal(without.exchanges.length, 0, 'encrypted, no keys: no IMAP to see');
  const byPath = await analyze(tls, { keylog: keyPath });
  const byText = await analyze(tls, { keylog: [{ text: readFileSync(keyPath, 'utf8') }] });
  const byBytes = await analyze(tls, { keylog: readFileSync(keyPath) });
  assert.ok(byPath.exchanges.some((e) => e.command === 'LOGIN'), JSON.stringify(byPath.exchanges.map((e) => e.command)));
  assert.equal(byPath.connections[0]!.tls?.decrypted, true);
  assert.deepEqual(facts(byText), facts(byPath));
  assert.deepEqual(facts(byBytes), facts(byPath));
  await assert.rejects(analyze(tls, { keylog: join(CAPTURES, 'missing.keys') }), CaptureError);
});

test('for await (const ex of exchanges(input)): the same exchanges as analyze(), in order', async () => {
  const all = (await analyze(seedPath)).exchanges;
  const streamed: Exchange[] = [];
  for await (const ex of exchanges(seedPath)) streamed.push(ex);
  assert.deepEqual(streamed.map((e) => [e.conn, e.tag, e.start, e.latencyMs]), all.map((e) => [e.conn, e.tag, e.start, e.latencyMs]));
  let n = 0;
  for await (const _ of exchanges(gzipSync(readFileSync(seedPath)))) if (++n === 3) break; // leaving early ends the reading
  assert.equal(n, 3);
  await assert.rejects(async () => { for await (const _ of exchanges(Buffer.from('junk'))) { /* none */ } }, CaptureError);
});

test('exchanges() reads only as far as the consumer has taken (bounded memory on huge captures)', async () => {
  const bytes = readFileSync(seedPath);
  const chunkSize = 256;
  const total = Math.ceil(bytes.length / chunkSize);
  let pulled = 0;
  const source = {
    name: 'counted',
    chunks: (function* () {
      for (let i = 0; i < bytes.length; i += chunkSize) {
        pulled++;
        yield bytes.subarray(i, i + chunkSize);
      }
    })(),
  };
  const it = pacedExchanges(source, {}, 2);
  const first = await it.next();
  assert.equal(first.done, false);
  // Give the reader every chance to run ahead: it must be waiting for the consumer.
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.ok(pulled < total / 2, `pulled ${pulled} of ${total} chunks after one exchange`);
  let rest = 0;
  for (let r = await it.next(); !r.done; r = await it.next()) rest++;
  assert.equal(rest + 1, 36);
  assert.equal(pulled, total);
});

test('Rules is the rules document of docs/check.md: every documented key types, and a full document is accepted', async () => {
  const doc = readFileSync(join(ROOT, 'docs', 'check.md'), 'utf8');
  const documented = [...doc.matchAll(/^\|[^|]+\|[^|]+\| `(\w+):/gm)].map((m) => m[1]!);
  const full: Required<Rules> = {
    version: 1, maxConnections: 3, maxConcurrent: 2, noBad: true, noNo: { except: ['CREATE'] }, allCompleted: true, noPlaintextAuth: false,
    latency: { SELECT: { p95: 500, max: 1000 }, LOGIN: 500 }, requireCommands: ['LOGOUT'], forbidCommands: ['DELETE'],
    requireCapabilities: ['IMAP4rev1'], requireSequences: [['LOGIN', 'SELECT'], { name: 'login first', commands: ['LOGIN', 'LOGOUT'] }], forbidSequences: [['LOGOUT', 'LOGIN']],
  };
  assert.ok(documented.length >= 12, documented.join(','));
  for (const key of documented) assert.ok(key in full, `Rules lacks ${key}`);
  const report = await check(seedPath, full);
  assert.equal(report.results.length, 14);
  // @ts-expect-error: a statistic that is not pN or max does not compile either
  const badStat: Rules = { latency: { SELECT: { median: 5 } } };
  await assert.rejects(check(seedPath, badStat), RulesError);
});
