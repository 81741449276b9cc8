/**
 * CI budget for the fuzzing harnesses (docs/fuzzing.md): every layer runs for 3 seconds (and at least 20
 * mutated inputs) from its seeds with a fixed PRNG seed, all invariants on. Long campaigns are run by
 * hand: npm run fuzz -- --layer NAME.
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
    const seeds = layer.seeds().length + (layer.generate ? 16 : 0);
    // At least 20 mutated inputs however slow the machine: the assertions do not depend on its speed.
    // The per-input bound is generous (30 s): a shared CI machine must not turn load into a failure; a
    // quadratic or endless loop still exceeds it (the regression fixtures replay such inputs in a child).
    const r = await fuzzLoop(layer, { seconds: SECONDS_PER_LAYER, minInputs: seeds + 20, seed: 1, coverage: false, timeoutMs: 30_000 });
    assert.equal(r.failure, null, r.failure ? `${r.failure.kind}: ${r.failure.message}\ninput (base64): ${r.failure.input.toString('base64').slice(0, 2000)}` : '');
    assert.ok(r.inputs >= seeds + 20, `${r.inputs} inputs run: the seeds and at least 20 mutations`);
  });
}
