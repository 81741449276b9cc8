/** Every JSON output matches its documented schema in docs/schema: no missing field, no undocumented one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CAPTURES, CLI, ROOT, hasPublic, publicCapture, unavailable, NO_PUBLIC } from './helpers/env.js';
import { validate } from './helpers/json-schema.js';

const schema = (name: string) => JSON.parse(readFileSync(join(ROOT, 'docs', 'schema', `${name}.schema.json`), 'utf8'));
const recorded = readdirSync(CAPTURES).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(CAPTURES, f));
const inputs = [...recorded, ...(hasPublic ? ['peafowl-imap.cap', 'suricata-verify-tcp-async-01-input.pcap', 'zeek-imap-starttls.pcap', 'protolens-imap.pcap', 'protolens-imap_fetch.pcap'].map(publicCapture) : [])];
unavailable(!hasPublic && NO_PUBLIC);

for (const command of ['streams', 'summary', 'commands', 'fetches']) {
  test(`${command} --json matches docs/schema/${command}.schema.json`, () => {
    for (const args of [...inputs.map((f) => [f]), recorded.slice(0, 2)]) {
      const r = spawnSync(process.execPath, [CLI, command, '--json', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      assert.equal(r.status, 0, r.stderr);
      const errors = validate(JSON.parse(r.stdout), schema(command));
      assert.deepEqual(errors.slice(0, 5), [], `${command} ${args.join(' ')}`);
    }
  });
}

test('commands --ndjson lines are exchanges of the commands schema', () => {
  const r = spawnSync(process.execPath, [CLI, 'commands', '--ndjson', recorded[0]!], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length > 3);
  for (const line of lines) assert.deepEqual(validate(JSON.parse(line), schema('commands').$defs.exchange), []);
});

test('fetches --ndjson lines are section fetches of the fetches schema', () => {
  const r = spawnSync(process.execPath, [CLI, 'fetches', '--ndjson', join(CAPTURES, 'seed-alice.pcap')], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length > 8);
  for (const line of lines) assert.deepEqual(validate(JSON.parse(line), schema('fetches').$defs.sectionFetch), []);
});
