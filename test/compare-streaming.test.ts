/**
 * compare gathers each connection's behaviour as the capture streams (src/compare/behaviour.ts), once the connection
 * is drained: its exchanges may be reported after its end, and its end may move after that (its last ACK). Both
 * must still count; and what compare keeps of a capture is per connection, never per exchange object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { BehaviourCollector } from '../src/compare/behaviour.js';
import { captureBehaviour } from '../src/compare/capture-behaviour.js';
import { buildProfiles } from '../src/compare/profile.js';
import { generateScaleCapture } from '../bench/scale-captures.js';
import { footprint, perUnit } from './helpers/footprint.js';
import { idleAcrossAnotherSession, lastAckAfterNextSyn } from './helpers/late-sessions.js';

const tmp = mkdtempSync(join(tmpdir(), 'imapscope-compare-streaming-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('a connection whose exchanges are reported after its end keeps them (commands, latencies, extensions)', async () => {
  const path = join(tmp, 'idle-across.pcap');
  idleAcrossAnotherSession(path);
  const behaviour = await captureBehaviour(path);
  const [idler, other] = behaviour.connections;
  const words = (ns: number[]) => ns.map((n) => behaviour.strings[n]);
  assert.deepEqual(words(other!.commands), ['CAPABILITY', 'LOGIN <user> <password>', 'LOGOUT']);
  assert.deepEqual(words(other!.names), ['CAPABILITY', 'LOGIN', 'LOGOUT']);
  assert.ok(other!.latencies.every((ms) => ms >= 0), 'each measured');
  assert.deepEqual(idler!.extensions, ['IDLE']);
  assert.deepEqual(buildProfiles([{ label: 'x', behaviour }], 'capture')[0]!.latency.LOGIN!.count, 1);
});

test('the most connections at once counts a connection open until its last ACK, after its end was first reported', async () => {
  const path = join(tmp, 'last-ack.pcap');
  lastAckAfterNextSyn(path);
  const [profile] = buildProfiles([{ label: 'x', behaviour: await captureBehaviour(path) }], 'capture');
  assert.equal(profile!.maxConcurrent, 2);
});

test('what compare keeps per drained connection is its behaviour alone: a fixed handful of objects, no exchange', async () => {
  const path = join(tmp, 'closed.pcap');
  await generateScaleCapture('closed', 300, path);
  const model = await analyzeCapture(path, { keepExchanges: true });
  const collected = (count: number) => {
    const collector = new BehaviourCollector();
    const conns = model.connections.slice(0, count);
    const ids = new Set(conns.map((c) => c.conn.id));
    for (const ex of model.exchanges!) if (ids.has(ex.conn)) collector.exchange(ex);
    for (const c of conns) {
      collector.endedAt(c);
      collector.settle({ id: c.conn.id, lastFrame: c.conn.lastFrame, end: c.conn.end });
      collector.drained(c);
    }
    return collector;
  };
  const shared = [model];
  const each = perUnit(footprint([collected(300).result().connections], shared), footprint([collected(150).result().connections], shared), 150);
  // Its behaviour, its facts (client, bytes by side; the times are the record's own) and five short lists; no exchange.
  assert.deepEqual(each.kinds, { object: 6, Array: 5 });
  // The collector holds nothing more per connection than what it hands back.
  assert.equal(perUnit(footprint([collected(300)], shared), footprint([collected(150)], shared), 150).bytes, each.bytes);
  assert.equal(collected(300).result().strings.length, collected(150).result().strings.length, 'shapes and names are kept once per capture');
});
