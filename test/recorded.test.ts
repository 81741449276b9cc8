/**
 * The project's own recorded captures (captures/, made by scripts/record-captures.sh against a real
 * Dovecot): what imapscope reassembles and pairs equals what the server's rawlog says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCapture } from '../src/analysis/analyzer.js';
import { streamCapture } from '../src/pipeline.js';
import type { Side } from '../src/tcp/types.js';
import { recordedCaptures, truthExchanges } from './helpers/ground-truth.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasPublic, PUBLIC } from './helpers/env.js';
import { KeyLog } from '../src/tls/keylog.js';

const captures = recordedCaptures();

test('recorded captures are present', () => {
  assert.deepEqual(captures.map((c) => c.name).sort(),
    ['append-idle', 'curl', 'fetchmail', 'imaps-tls13', 'mbsync', 'offlineimap', 'seed-alice', 'seed-bob', 'starttls-tls12']);
});

for (const cap of captures) {
  test(`${cap.name}: every connection's reassembled bytes equal the server's rawlog`, async () => {
    const byPort = new Map<number, Record<Side, Buffer[]>>();
    await streamCapture(cap.path, {
      open: (c) => { byPort.set(c.client.port, { client: [], server: [] }); },
      data: (c, side, bytes) => { byPort.get(c.client.port)![side].push(Buffer.from(bytes)); },
      gap: () => assert.fail('no gaps expected in a loopback recording'),
      close: () => {},
    }, () => {}, { ports: [143, 993] });
    assert.deepEqual([...byPort.keys()].sort(), cap.connections.map((c) => c.clientPort).sort());
    for (const conn of cap.connections) {
      const ours = byPort.get(conn.clientPort)!;
      assert.ok(Buffer.concat(ours.client).equals(conn.toServer), `port ${conn.clientPort}: client→server bytes differ`);
      assert.ok(Buffer.concat(ours.server).equals(conn.toClient), `port ${conn.clientPort}: server→client bytes differ`);
    }
  });

  test(`${cap.name}: every tagged command, its name and status, and the untagged count equal the rawlog`, async () => {
    const a = await analyzeCapture(cap.path, { keepExchanges: true });
    for (const conn of cap.connections) {
      const info = a.connections.find((c) => c.conn.client.port === conn.clientPort)!;
      const truth = truthExchanges(conn);
      const ours = a.exchanges!.filter((e) => e.conn === info.conn.id && e.status !== null);
      assert.deepEqual(ours.map((e) => ({ tag: e.tag, command: e.command, status: e.status })),
        truth.exchanges.map(({ tag, command, status }) => ({ tag, command, status })), `port ${conn.clientPort}`);
      assert.ok(ours.every((e) => !e.requestMissing), 'every request was captured');
      const untagged = ours.reduce((n, e) => n + e.untagged, 0) + info.unsolicited + (info.greeting ? 1 : 0);
      assert.equal(untagged, truth.untagged, `port ${conn.clientPort}: untagged responses`);
      // Without keys the login happens inside TLS: the user cannot be known, and must not be guessed.
      assert.equal(info.user, info.tls ? null : conn.user, `port ${conn.clientPort}: user`);
    }
  });
}

/**
 * Pipelined commands: each untagged response is credited to the command it answers, as read from the
 * server's own log (mbsync pipelines UID FETCHes whose data Dovecot interleaves).
 */
for (const cap of captures) {
  test(`${cap.name}: untagged responses are credited to the command that caused them, as the rawlog orders them`, async () => {
    const a = await analyzeCapture(cap.path, { keepExchanges: true });
    for (const conn of cap.connections) {
      const info = a.connections.find((c) => c.conn.client.port === conn.clientPort)!;
      const ours = a.exchanges!.filter((e) => e.conn === info.conn.id && e.status !== null);
      assert.equal(info.unsolicited, 0, `port ${conn.clientPort}: Dovecot pushed nothing while no command was outstanding`);
      assert.deepEqual(ours.map((e) => `${e.tag} ${e.command}: ${e.untagged}`),
        truthExchanges(conn).exchanges.map((e) => `${e.tag} ${e.command}: ${e.untagged}`), `port ${conn.clientPort}`);
    }
  });
}

/**
 * Without a reader of FETCH data (commands, summary), FETCH literals' octets are not kept: nothing the session
 * reports may depend on them. The same analysis with a receiver of untagged responses (which keeps them) must
 * report the same exchanges and connections, pipelined FETCHes (mbsync) and decrypted TLS included.
 */
test('what the session reports does not depend on keeping FETCH literals\' octets', async () => {
  let fetchLiterals = 0;
  // The public captures too, where they are (they are in CI): other servers, other clients.
  const publicOnes = hasPublic ? readdirSync(PUBLIC).filter((f) => /\.(pcap|pcapng|cap)$/.test(f)).map((f) => ({ name: f, path: join(PUBLIC, f) })) : [];
  for (const cap of [...captures, ...publicOnes]) {
    const keyFile = cap.path.replace(/\.[a-z]+$/, '.keys');
    const keys = () => (existsSync(keyFile) ? KeyLog.parse(readFileSync(keyFile, 'utf8')) : undefined);
    const quiet = await analyzeCapture(cap.path, { keepExchanges: true, keys: keys() });
    const reading = await analyzeCapture(cap.path, {
      keepExchanges: true, keys: keys(),
      onUntagged: (r, m) => { if (r.kind === 'numbered' && m.literals.some((l) => l.data !== null)) fetchLiterals++; },
    });
    assert.equal(JSON.stringify(quiet.exchanges), JSON.stringify(reading.exchanges), cap.name);
    assert.equal(JSON.stringify(quiet.connections), JSON.stringify(reading.connections), cap.name);
  }
  assert.ok(fetchLiterals > 0, 'the recordings fetch literals');
});
