/** Temporary directories inside an output directory go with the process, however it ends. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './helpers/env.js';

/**
 * In a child process: import `module` (under dist/src), run `make` (JavaScript with `m` the module and `dir` the
 * output directory), print how many dot-directories `dir` then holds, and exit 130 without tidying up, as a second
 * Ctrl-C does.
 */
function endsWithOneOpen(module: string, make: string, dir: string): { status: number | null; held: string; stderr: string } {
  const url = pathToFileURL(join(ROOT, 'dist', 'src', module)).href;
  const script = `(async () => {
    const m = await import(${JSON.stringify(url)});
    const dir = process.argv[1];
    ${make};
    console.log(require('node:fs').readdirSync(dir).filter((n) => n.startsWith('.')).length);
    process.exit(130);
  })()`;
  const r = spawnSync(process.execPath, ['--input-type=commonjs', '-e', script, dir], { encoding: 'utf8' });
  return { status: r.status, held: r.stdout.trim(), stderr: r.stderr };
}

for (const [what, module, make] of [
  ['an export batch', 'fleet/dataset.js', "(await m.DatasetWriter.open(dir, 'parquet')).write('fetches', '{}\\n')"],
  ['extract', 'extract/extractor.js', 'new m.Extractor(dir, false, () => {})'],
] as const) {
  test(`${what}: its temporary directory inside the output directory goes when the process ends before it is done`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'imapscope-temp-'));
    try {
      const r = endsWithOneOpen(module, make, dir);
      assert.equal(r.status, 130, r.stderr);
      assert.equal(r.held, '1', 'it had its directory while it ran');
      assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
