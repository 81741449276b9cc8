/**
 * The bin's code cache (scripts/bundle.mjs, scripts/launch/load.cjs): made when the bundle is built, by a run under the
 * V8 flags of the bin's first line, so that V8 takes it when the bin starts. V8 rejects a cache made under other flags
 * or for another bundle without a word, and the bin would compile its code at every start again: only a test sees it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT } from './helpers/env.js';

const LOAD = join(ROOT, 'dist', 'bundle', 'load.js');

function firstLine(file: string): string {
  return readFileSync(file, 'utf8').split('\n', 1)[0]!;
}

/** How the bundle's code cache went, loaded by node with `flags`: used, rejected or none. */
function cacheLoadedWith(flags: string[]): string {
  const r = spawnSync(process.execPath, [...flags, '-e', `process.stdout.write(require(${JSON.stringify(LOAD)}).load().cache)`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('the bin loads its bundle with the code cache made for it, under its own V8 flags', () => {
  const shebang = firstLine(CLI);
  assert.equal(shebang, firstLine(join(ROOT, 'src', 'cli', 'main.ts')), "the bin starts node as src/cli/main.ts says");
  const flags = shebang.split(/\s+/).filter((word) => word.startsWith('--'));
  assert.ok(flags.includes('--expose-gc'), `the first line sets V8 flags (${shebang})`);
  assert.equal(cacheLoadedWith(flags), 'used');
  assert.equal(cacheLoadedWith([]), 'rejected', 'under other flags V8 rejects it: the check above can fail');
});
