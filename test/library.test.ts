/** The library API as a user's own test would use it: import from the package name, assert facts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyze, check } from 'imapscope';
import { CAPTURES } from './helpers/env.js';

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
  await assert.rejects(check(join(CAPTURES, 'seed-alice.pcap'), { noSuchRule: 1 }), /noSuchRule/);
});
