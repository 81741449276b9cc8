/**
 * Every crash, hang or broken invariant the fuzzing campaign found (docs/fuzzing.md), minimised, under
 * test/fixtures/fuzz/<layer>/: each is replayed through its harness, with all of the harness's
 * invariants, in a child process so that a hang (an endless loop) fails the test instead of stopping it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { layerNamed } from '../fuzz/layers/index.js';
import { FUZZ_FIXTURES, ROOT } from '../fuzz/paths.js';

const RUN = join(ROOT, 'dist', 'fuzz', 'run.js');
const layers = readdirSync(FUZZ_FIXTURES);

test('every fixture directory names a harness', () => {
  assert.ok(layers.length > 0);
  for (const name of layers) assert.ok(layerNamed(name), `test/fixtures/fuzz/${name}: no such harness`);
});

for (const name of layers) {
  for (const file of readdirSync(join(FUZZ_FIXTURES, name))) {
    test(`fuzz regression ${name}/${file}`, () => {
      const r = spawnSync(process.execPath, [RUN, '--layer', name, '--replay', join(FUZZ_FIXTURES, name, file)], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.signal, null, `${name}/${file}: still running after 30 s (a hang)`);
      assert.equal(r.status, 0, `${name}/${file}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 input\(s\) pass/);
    });
  }
}

test('the fuzz runner answers an unknown or incomplete option with one usage line and exit code 2, not a stack trace', () => {
  for (const [args, said] of [[['--bogus'], /^fuzz: Unknown option '--bogus'/], [['--layer'], /^fuzz: Option '--layer <value>' argument missing/]] as const) {
    const r = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, said);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
