/**
 * `check` evaluates its rules as the capture streams (src/check/capture-checker.ts): it keeps counts, the first
 * failures, and what it needs of a connection until the connection is drained (ended, its last exchange gone by),
 * never the exchanges. These tests hold the streaming outcome equal to the rules evaluated over a kept model, on
 * every recorded and public capture and on a capture whose exchanges come after their connection's end; bound what
 * the checker keeps per drained connection (counted structurally); and cover the parts it is built of.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture, type CaptureAnalysis } from '../src/analysis/analyzer.js';
import { ExchangeOrderer } from '../src/analysis/orderer.js';
import { checkCapture } from '../src/check/check-capture.js';
import { CaptureChecker } from '../src/check/capture-checker.js';
import { FirstInOrder } from '../src/check/failures.js';
import { rulesFromSpec } from '../src/check/load.js';
import { evaluate, ruleName } from '../src/check/rules.js';
import type { Rules } from '../src/check/spec.js';
import type { Exchange } from '../src/imap/model.js';
import type { KeyLog } from '../src/tls/keylog.js';
import { generateScaleCapture } from '../bench/scale-captures.js';
import { footprint, perUnit } from './helpers/footprint.js';
import { idleAcrossAnotherSession, lastAckAfterNextSyn } from './helpers/late-sessions.js';
import { exchangeStub } from './helpers/imap.js';
import { everyCapture } from './helpers/every-capture.js';

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-check-streaming-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Every kind of rule, most of them failing somewhere in the recordings. */
const EVERY_KIND: Rules = {
  maxConnections: 1, maxConcurrent: 1, noBad: true, noNo: true, allCompleted: true, noPlaintextAuth: true,
  latency: { SELECT: { p50: 0.01, max: 0.01 }, 'UID FETCH': 0.001, LOGIN: 10_000 },
  requireCommands: ['LOGOUT', 'COMPRESS'], forbidCommands: ['FETCH', 'SELECT', 'CAPABILITY'],
  requireCapabilities: ['IDLE', 'STARTTLS'],
  requireSequences: [['LOGIN', 'SELECT', 'LOGOUT'], ['CAPABILITY', 'IDLE', 'DONE']],
  forbidSequences: [['SELECT', 'FETCH'], ['LOGIN'], ['CAPABILITY', 'NOOP']],
};
const RULES = rulesFromSpec(EVERY_KIND, 'test rules');

async function keptModel(path: string, keys?: () => KeyLog | undefined): Promise<CaptureAnalysis> {
  return analyzeCapture(path, { keepExchanges: true, keys: keys?.() });
}

test('streaming check = the rules over the kept model, on every recorded and public capture, encrypted or not', async () => {
  let failures = 0;
  for (const { path, keys } of everyCapture()) {
    const model = await keptModel(path, keys);
    for (const allowEncrypted of [false, true]) {
      const streamed = await checkCapture(path, RULES, { keys: keys() }, { allowEncrypted });
      const kept = evaluate(RULES, [model], { allowEncrypted }).results.map((r) => r.captures[0]);
      assert.deepEqual(streamed.outcomes, kept, `${path}${allowEncrypted ? ' --allow-encrypted' : ''}`);
      failures += streamed.outcomes.reduce((n, o) => n + o.failureCount, 0);
    }
  }
  assert.ok(failures > 100, 'the rules fail in many places');
});

test('exchanges reported after their connection ended still count: the failures point at them', async () => {
  const path = join(tmp, 'idle-across.pcap');
  idleAcrossAnotherSession(path);
  // The premise: connection 1 ended before its exchanges were reported.
  const order: string[] = [];
  await analyzeCapture(path, { onExchange: (ex) => order.push(`exchange ${ex.conn} ${ex.tag}`), onConnectionClose: (c) => order.push(`end ${c.conn.id}`) });
  assert.ok(order.indexOf('end 1') < order.indexOf('exchange 1 b1'), order.join(', '));

  const rules = rulesFromSpec({ noPlaintextAuth: true, requireCapabilities: ['IDLE'], forbidSequences: [['CAPABILITY', 'LOGIN']], requireSequences: [['LOGIN', 'SELECT']] }, 'test rules');
  const { outcomes } = await checkCapture(path, rules);
  const of = (name: string) => outcomes[rules.findIndex((r) => ruleName(r) === name)]!;
  const [auth, capability, forbidden, required] = ['no-plaintext-auth', 'require-capability IDLE', 'forbid-sequence CAPABILITY > LOGIN', 'require-sequence LOGIN > SELECT'].map(of);
  assert.deepEqual(auth!.failures.map((f) => [f.conn, f.tag, f.command]), [[1, 'b2', 'LOGIN']], 'the clear-text LOGIN itself');
  assert.deepEqual(capability!.failures.map((f) => [f.conn, f.tag, f.detail]), [[1, 'b1', 'the server did not announce IDLE (capabilities from this exchange)']]);
  assert.equal(forbidden!.message, 'CAPABILITY > LOGIN in connection 1');
  assert.equal(required!.message, 'LOGIN > SELECT in no connection; longest start in connection 1: b2 LOGIN (frame 19), then no SELECT');
  assert.deepEqual(outcomes, evaluate(rules, [await keptModel(path)]).results.map((r) => r.captures[0]));
});

test('the checker keeps nothing per drained connection: counts, the first failures, and lifetimes in columns', async () => {
  const path = join(tmp, 'closed.pcap');
  await generateScaleCapture('closed', 600, path);
  const model = await keptModel(path);
  const byConn = new Map<number, Exchange[]>();
  for (const ex of model.exchanges!) byConn.set(ex.conn, [...(byConn.get(ex.conn) ?? []), ex]);
  // Rules that fail on every session (LOGIN in clear, a forbidden sequence, slow LOGINs …) and rules that pass.
  const spec: Rules = { ...EVERY_KIND, requireCapabilities: ['IDLE'], latency: { LOGIN: 0, SELECT: { p50: 10_000 } } };
  const rules = rulesFromSpec(spec, 'test rules');
  const checked = (count: number) => {
    const checker = new CaptureChecker(rules);
    for (const c of model.connections.slice(0, count)) {
      for (const ex of byConn.get(c.conn.id) ?? []) checker.exchange(ex, c);
      checker.ended(c, true, true);
      checker.drained(c, true);
    }
    return checker;
  };
  const shared = [model];
  const each = perUnit(footprint([checked(600)], shared), footprint([checked(300)], shared), 300);
  assert.deepEqual(each, { kinds: {}, classes: {}, bytes: 0 }, 'no object per drained connection');
  const outcomes = checked(600).finish('closed');
  assert.ok(outcomes.filter((o) => !o.passed).every((o) => o.failures.length <= 100), 'the failures listed are capped');
  assert.equal(outcomes[rules.findIndex((r) => r.kind === 'no-plaintext-auth')]!.failureCount, 600, 'and counted');
});

test('FirstInOrder keeps the first items in order among all offered, ties in the order offered, and counts them all', () => {
  const first = new FirstInOrder<{ key: number; n: number }>((a, b) => a.key - b.key, 3);
  [5, 1, 4, 1, 3, 9, 0, 1].forEach((key, n) => first.offer({ key, n }));
  assert.deepEqual(first.first.map((x) => [x.key, x.n]), [[0, 6], [1, 1], [1, 3]]);
  assert.equal(first.count, 8);
});

test('the orderer hands on an owner that ended once every exchange opened before its end has gone, in order with them', () => {
  const log: string[] = [];
  const orderer = new ExchangeOrderer<string>((ex) => log.push(ex.tag!), () => {}, (owner) => log.push(`${owner} drained`));
  const ex = (tag: string) => exchangeStub(tag);
  orderer.ended('a');
  assert.deepEqual(log, ['a drained'], 'nothing open: at once');
  const [idle, b1, b2] = [ex('idle'), ex('b1'), ex('b2')];
  orderer.opened(idle, 'a');
  orderer.opened(b1, 'b');
  orderer.opened(b2, 'b');
  orderer.completed(b1);
  orderer.completed(b2);
  orderer.ended('b');
  const c1 = ex('c1');
  orderer.opened(c1, 'c');
  orderer.completed(c1);
  assert.deepEqual(log, ['a drained'], 'b waits behind the idle command');
  orderer.completed(idle);
  assert.deepEqual(log, ['a drained', 'idle', 'b1', 'b2', 'b drained', 'c1']);
});

test('an owner that ended knowing its newest exchange leaves right after that one, not behind later ones', () => {
  const log: string[] = [];
  const orderer = new ExchangeOrderer<string>((ex) => log.push(ex.tag!), () => {}, (owner) => log.push(`${owner} drained`));
  const ex = (tag: string) => exchangeStub(tag);
  const [idle, b1, c1, d1] = [ex('idle'), ex('b1'), ex('c1'), ex('d1')];
  orderer.opened(idle, 'a');
  orderer.opened(b1, 'b');
  orderer.opened(c1, 'c');
  orderer.completed(b1);
  orderer.ended('b', b1);
  assert.deepEqual(log, [], 'b1 waits behind the idle command, and b with it');
  orderer.completed(idle);
  assert.deepEqual(log, ['idle', 'b1', 'b drained'], 'b goes with b1, though c1 (opened before its end) is still open');
  orderer.opened(d1, 'd');
  orderer.completed(d1);
  orderer.ended('d', d1);
  assert.deepEqual(log, ['idle', 'b1', 'b drained'], 'd1 waits behind c1');
  orderer.completed(c1);
  orderer.ended('c', c1);
  assert.deepEqual(log, ['idle', 'b1', 'b drained', 'c1', 'd1', 'd drained', 'c drained'], 'c1 had gone: c at once');
});

test('connections open at the end of the input are each drained after their own command, not after the last one', async () => {
  const path = join(tmp, 'open-at-end.pcap');
  await generateScaleCapture('open', 4, path);
  const log: string[] = [];
  await analyzeCapture(path, {
    keepConnections: false,
    onExchange: (ex) => log.push(`${ex.conn} ${ex.command}`),
    onConnectionDrained: (c) => log.push(`${c.conn.id} drained`),
  });
  assert.deepEqual(log, [0, 1, 2, 3].flatMap((id) => [`${id} NOOP`, `${id} drained`]));
});

test('max-concurrent counts a connection open until its last ACK, which comes after its end was reported', async () => {
  const path = join(tmp, 'last-ack.pcap');
  lastAckAfterNextSyn(path);
  const rules = rulesFromSpec({ maxConcurrent: 1, maxConnections: 1 }, 'test rules');
  const { outcomes } = await checkCapture(path, rules);
  assert.equal(outcomes[rules.findIndex((r) => r.kind === 'max-concurrent')]!.message, '2 connections open at once at the peak (at most 1 allowed); 1 connection opened over the bound');
  assert.deepEqual(outcomes, evaluate(rules, [await keptModel(path)]).results.map((r) => r.captures[0]));
});
