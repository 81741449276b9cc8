/**
 * The package as a user gets it: a copy of the sources without dist/ is packed (prepack builds it), the
 * tarball is installed into an empty project, and there the README's library example, require() of the
 * entry, `npx imapscope --help` and an export with the embedded DuckDB run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES, ROOT } from './helpers/env.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
}

/** The README's library example, as a file to run. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## As a library'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the README has a library example');
  return block[1]!;
}

test('npm pack on a fresh checkout, installed into an empty project: README example, require(), npx imapscope', { timeout: 600_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'imapscope-pack-'));
  try {
    // A checkout without build output; dependencies linked so no download is needed for the build.
    const checkout = join(root, 'checkout');
    mkdirSync(checkout);
    for (const entry of ['src', 'docs', 'README.md', 'package.json', 'package-lock.json', 'tsconfig.json', 'test', 'bench', 'scripts', 'fuzz', 'captures']) {
      cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    const packed = JSON.parse(sh(npm, ['pack', '--json', '--pack-destination', root, ...quiet], checkout)) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    const built = ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/bundle/main.js', 'dist/bundle/worker.js', 'dist/bundle/load.js', 'dist/bundle/package.json', 'dist/bundle/imapscope.js', 'dist/bundle/imapscope.js.cache', 'dist/bundle/client/main.js'];
    assert.deepEqual(built.filter((f) => !files.includes(f)), [], 'prepack built the package, its bundle and the code cache (made by a run on a bundled capture)');
    const unwanted = files.filter((f) => /^(captures|test|dist\/test|bench|dist\/bench|scripts|fuzz|dist\/fuzz|src)\/|\.keys$|\.pcap(ng)?$/.test(f));
    assert.deepEqual(unwanted, [], 'no captures, key logs, tests or sources in the package');

    const project = join(root, 'project');
    mkdirSync(join(project, 'traces'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    sh(npm, ['install', '--prefer-offline', ...quiet, join(root, packed[0]!.filename)], project);

    // The README example, with a real capture where it names traces/sync.pcapng (the format is in the bytes).
    copyFileSync(join(CAPTURES, 'seed-alice.pcap'), join(project, 'traces', 'sync.pcapng'));
    writeFileSync(join(project, 'example.test.mjs'), readmeExample());
    // A clean environment: inside our own test run, node --test would otherwise report to its parent instead.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', 'example.test.mjs'], { cwd: project, encoding: 'utf8', env });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /# pass 2\b/);
    assert.match(run.stdout, /# fail 0\b/);

    const required = spawnSync(process.execPath, ['-e', "const m = require('imapscope'); if (typeof m.analyze !== 'function' || typeof m.exchanges !== 'function') process.exit(3)"], { cwd: project, encoding: 'utf8' });
    assert.equal(required.status, 0, `require() of the ES module entry: ${required.stderr}`);

    const help = spawnSync(npm, ['exec', '--offline', '--', 'imapscope', '--help'], { cwd: project, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    for (const command of ['summary', 'commands', 'export', 'sql']) assert.match(help.stdout, new RegExp(`\\n  ${command} `));

    // The native DuckDB module came with the installed package and works.
    sh(npm, ['exec', '--offline', '--', 'imapscope', 'export', 'traces', '--out', 'ds'], project);
    const count = sh(npm, ['exec', '--offline', '--', 'imapscope', 'sql', 'ds', 'SELECT count(*) AS n FROM exchanges', '-T', 'csv'], project);
    assert.equal(count, 'n\r\n36\r\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
