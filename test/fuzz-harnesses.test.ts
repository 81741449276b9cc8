/**
 * CI budget for the fuzzing harnesses (docs/fuzzing.md): every layer runs for 3 seconds from its seeds
 * with fixed PRNG seeds, all invariants on. Long campaigns are run by hand: npm run fuzz -- --layer NAME.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYERS } from '../fuzz/layers/index.js';
import { fuzzLoop } from '../fuzz/loop.js';

const SECONDS_PER_LAYER = 3;

test('there is a harness for every layer the fuzzing campaign names', () => {
  assert.deepEqual(LAYERS.map((l) => l.name).sort(), ['capture', 'decode', 'fetch', 'framing', 'inflate', 'names', 'parse', 'pipeline', 'rules', 'sasl', 'session', 'tcp', 'tls', 'utf7']);
});

for (const layer of LAYERS) {
  test(`fuzz ${layer.name} for ${SECONDS_PER_LAYER} s: no crash, hang or broken invariant`, async () => {
    const r = await fuzzLoop(layer, { seconds: SECONDS_PER_LAYER, seed: 1, coverage: false });
    assert.equal(r.failure, null, r.failure ? `${r.failure.kind}: ${r.failure.message}\ninput (base64): ${r.failure.input.toString('base64').slice(0, 2000)}` : '');
    assert.ok(r.inputs > layer.seeds().length, `${r.inputs} inputs run: more than the seeds alone`);
  });
}
