/** compare on real recordings: the same client with two accounts is the same behaviour; two clients are not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAPTURES, CLI, ROOT } from './helpers/env.js';
import { validate } from './helpers/json-schema.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', 'compare.schema.json'), 'utf8'));

function compare(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'compare', '--json', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, json: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

test('one client, two accounts (alice, bob): the same behaviour', () => {
  const r = compare('--expect-same', join(CAPTURES, 'seed-alice.pcap'), join(CAPTURES, 'seed-bob.pcap'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(validate(r.json, schema), []);
  assert.equal(r.json.same, true);
  assert.deepEqual(r.json.differences, []);
  const [a, b] = r.json.profiles;
  assert.equal(a.connections.length, 3);
  assert.notDeepEqual(a.bytes, b.bytes, 'bytes differ with the account, and do not count');
  assert.ok(a.connections.some((c: { commands: string[] }) => c.commands.includes('LOGIN <user> <password>')), 'users and passwords abstracted');
  assert.ok(a.connections.some((c: { commands: string[] }) => c.commands.includes('SELECT "Entw&APw-rfe"')), 'mailbox names kept');
});

test('mbsync and offlineimap on the same mailbox: different, and the differences are named', () => {
  const r = compare('--expect-same', join(CAPTURES, 'mbsync.pcap'), join(CAPTURES, 'offlineimap.pcapng'));
  assert.equal(r.code, 1, 'exit 1 with --expect-same when they differ');
  assert.deepEqual(validate(r.json, schema), []);
  assert.equal(r.json.same, false);
  const what = new Map(r.json.differences.map((d: { what: string; a: unknown; b: unknown }) => [d.what, d]));
  assert.deepEqual([(what.get('number of connections') as { a: number }).a, (what.get('number of connections') as { b: number }).b], [1, 3]);
  const ext = what.get('extensions used') as { a: string[]; b: string[] };
  assert.ok(ext.a.includes('COMPRESS') && !ext.b.includes('COMPRESS'), 'mbsync compresses, offlineimap does not');
  assert.deepEqual((what.get('authentication') as { a: string[]; b: string[] }).b, ['PLAIN']);
  assert.ok(r.json.differences.some((d: { what: string }) => /commands$/.test(d.what)));
});

test('--by user needs two users; one capture of one user is a usage error (exit 2)', () => {
  const r = compare('--by', 'user', join(CAPTURES, 'seed-alice.pcap'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /at least two profiles/);
  const two = compare('--by', 'user', join(CAPTURES, 'seed-alice.pcap'), join(CAPTURES, 'seed-bob.pcap'));
  assert.equal(two.code, 0);
  assert.deepEqual(two.json.profiles.map((p: { label: string }) => p.label), ['alice', 'bob']);
  assert.equal(two.json.same, true);
});

test('--by user across captures keeps each connection\'s own commands (ids repeat between captures)', () => {
  const alice = join(CAPTURES, 'seed-alice.pcap');
  const bob = join(CAPTURES, 'seed-bob.pcap');
  const single = compare(alice, bob).json.profiles[0].connections.map((c: { commands: string[] }) => c.commands.length).sort();
  const r = compare('--by', 'user', alice, bob, alice, bob);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.same, true);
  for (const p of r.json.profiles) {
    assert.equal(p.connections.length, 6);
    const counts = p.connections.map((c: { commands: string[] }) => c.commands.length).sort();
    assert.deepEqual(counts, [...single, ...single].sort());
  }
});
