/**
 * Every crash, hang or broken invariant the fuzzing campaign found (docs/fuzzing.md), minimised, under
 * test/fixtures/fuzz/<layer>/: each is replayed through its harness, with all of the harness's
 * invariants (time bound included), and must pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { layerNamed } from '../fuzz/layers/index.js';
import { replay } from '../fuzz/loop.js';
import { FUZZ_FIXTURES } from '../fuzz/paths.js';

const layers = readdirSync(FUZZ_FIXTURES);

test('every fixture directory names a harness', () => {
  assert.ok(layers.length > 0);
  for (const name of layers) assert.ok(layerNamed(name), `test/fixtures/fuzz/${name}: no such harness`);
});

for (const name of layers) {
  for (const file of readdirSync(join(FUZZ_FIXTURES, name))) {
    test(`fuzz regression ${name}/${file}`, async () => {
      const failure = await replay(layerNamed(name)!, [readFileSync(join(FUZZ_FIXTURES, name, file))]);
      assert.equal(failure, null, failure ? `${failure.kind}: ${failure.message}` : '');
    });
  }
}
