/**
 * Start-up: every invocation defines all commands (for parsing, --help and "did you mean") but loads only
 * the implementation of the command it runs (docs/architecture.md, CLI). These tests run the CLI with a
 * module hook that logs each module loaded (the bin's bundle, one file, with V8's coverage, which shows each of its
 * modules initialised), and fail when a light path pulls in a heavy module again, e.g.
 * a static import of the HTML report in program.ts or a command definition. No timing: module lists only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CAPTURES, CLI, MODULE_CLI, ROOT } from './helpers/env.js';

const HOOKS = pathToFileURL(fileURLToPath(new URL('./helpers/module-log.js', import.meta.url))).href;
const REGISTER = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(HOOKS)});`;
const SRC = join(ROOT, 'dist', 'src');
const BUNDLE_URL = pathToFileURL(join(ROOT, 'dist', 'bundle', 'imapscope.js')).href;

/** Implementations only some commands need; the light paths below must load none of them. */
const HEAVY = ['report/html/', 'compare/', 'check/rules.js', 'check/load.js', 'check/junit.js', 'extract/', 'mime/', 'fleet/export.js', 'fleet/duckdb.js', 'fleet/rows.js'];

interface Run { code: number | null; stdout: string; stderr: string; modules: string[]; builtins?: string[] }

/** The CLI run with the module log: the imapscope modules it loaded (relative to `base`, each once). */
function runLogged(args: string[], cli = MODULE_CLI, base = SRC): Run {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-modules-'));
  const log = join(dir, 'modules.log');
  try {
    const r = spawnSync(process.execPath, ['--import', REGISTER, cli, ...args], {
      encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', IMAPSCOPE_MODULE_LOG: log },
    });
    const urls = [...new Set(readFileSync(log, 'utf8').split('\n').filter((l) => l !== ''))];
    const files = urls.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u)).filter((f) => f.startsWith(base));
    const builtins = urls.filter((u) => u.startsWith('node:'));
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules: files.map((f) => relative(base, f).split('\\').join('/')), builtins };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The bin run with V8's coverage (NODE_V8_COVERAGE): the modules of dist/src its bundle initialised, on any thread. The
 * bundle is one file; esbuild wraps each module it loads on demand in an initialiser named after the module's path,
 * which runs once, when the module is first needed (scripts/bundle.mjs).
 */
function runCovered(args: string[]): Run {
  const dir = mkdtempSync(join(tmpdir(), 'imapscope-coverage-'));
  try {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NODE_V8_COVERAGE: dir } });
    const modules = new Set<string>();
    for (const file of readdirSync(dir)) {
      const { result } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[] };
      for (const script of result.filter((s) => s.url === BUNDLE_URL)) {
        for (const fn of script.functions) if (fn.functionName.startsWith('dist/src/') && fn.ranges[0]!.count > 0) modules.add(fn.functionName.slice('dist/src/'.length));
      }
    }
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules: [...modules] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertLight(run: Run, allowedRunner: string | null): void {
  const heavy = run.modules.filter((m) => HEAVY.some((h) => m.startsWith(h)));
  assert.deepEqual(heavy, [], `heavy modules loaded: ${heavy.join(', ')}`);
  const runners = run.modules.filter((m) => m.startsWith('cli/run/'));
  assert.deepEqual(runners, allowedRunner ? [`cli/run/${allowedRunner}.js`] : [], 'only the running command\'s implementation is loaded');
}

const CURL = join(CAPTURES, 'curl.pcap');

test('--version and --help define every command but load no implementation and no capture pipeline', () => {
  for (const args of [['--version'], ['--help'], ['help', 'report'], ['sumary', CURL]]) {
    const run = runLogged(args);
    assert.ok(run.modules.includes('cli/program.js') && run.modules.includes('cli/commands/report.js'), `the module log works (${args.join(' ')})`);
    assertLight(run, null);
    const pipeline = run.modules.filter((m) => /^(analysis|imap|tcp|tls|filter)\//.test(m));
    assert.deepEqual(pipeline, [], `${args.join(' ')} needs no analysis`);
  }
  assert.equal(runLogged(['--version']).stdout, '0.1.0\n');
  const typo = runLogged(['sumary', CURL]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown command 'sumary' \(did you mean summary\?\)/);
});

test('commands, summary and streams on a capture load their own runner and task, nothing heavy', () => {
  const commands = runLogged(['commands', '--json', CURL]);
  assert.equal(commands.code, 0, commands.stderr);
  assert.equal(JSON.parse(commands.stdout).exchanges.length, 24, 'commands analysed the capture');
  assertLight(commands, 'commands');
  assert.ok(commands.modules.includes('cli/commands-capture.js'));
  for (const other of ['cli/fetches-capture.js', 'cli/selected-capture.js', 'analysis/full.js']) assert.ok(!commands.modules.includes(other), `commands does not load ${other}`);
  // Node's zlib (a gzip input) and worker_threads (a second job) are loaded when needed: 4 ms of every start.
  assert.ok(commands.builtins!.includes('node:fs/promises'), 'the log sees Node modules');
  assert.deepEqual(commands.builtins!.filter((b) => b === 'node:zlib' || b === 'node:worker_threads'), []);

  const summary = runLogged(['summary', '--json', CURL]);
  assert.equal(summary.code, 0, summary.stderr);
  assert.equal(JSON.parse(summary.stdout).connections.length, 5, 'summary analysed the capture');
  assertLight(summary, 'summary');
  assert.ok(!summary.modules.includes('cli/commands-capture.js'));

  const streams = runLogged(['streams', '--json', CURL]);
  assert.equal(streams.code, 0, streams.stderr);
  assert.equal(JSON.parse(streams.stdout).connections.length, 5, 'streams read the capture');
  assertLight(streams, 'streams');
});

test('worker threads load only the task kind they run (summary --jobs 2 on two captures)', () => {
  const two = runLogged(['summary', '--jobs', '2', CURL, join(CAPTURES, 'mbsync.pcap')]);
  assert.equal(two.code, 0, two.stderr);
  assert.ok(two.modules.includes('parallel/worker.js'), 'workers ran');
  assert.ok(two.modules.includes('cli/selected-capture.js'));
  assertLight(two, 'summary');
  assert.ok(!two.modules.includes('cli/commands-capture.js') && !two.modules.includes('cli/fetches-capture.js'));
});

test('the module log sees a heavy path: report loads the HTML report (so the checks above can fail)', () => {
  const report = runLogged(['report', '-o', '-', CURL]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /^<!DOCTYPE html>/i);
  assert.ok(report.modules.some((m) => m.startsWith('report/html/')));
  assert.ok(report.modules.includes('cli/run/report.js'));
});

test("the bin's bundle initialises a command's modules when the command runs: --version none, a command its own", () => {
  const version = runCovered(['--version']);
  assert.equal(version.stdout, '0.1.0\n');
  assertLight(version, null);
  assert.deepEqual(version.modules.filter((m) => /^(analysis|imap|tcp|tls|filter)\//.test(m)), [], '--version needs no analysis');
  const summary = runCovered(['summary', '--json', CURL]);
  assert.equal(JSON.parse(summary.stdout).connections.length, 5);
  assert.ok(summary.modules.includes('cli/selected-capture.js'), "the coverage sees the bundle's modules");
  // A module the entry imports statically is not wrapped, so the coverage would not see it: the pipeline is seen here,
  // so the check on --version above can fail.
  assert.ok(summary.modules.includes('tcp/tracker.js') && summary.modules.includes('imap/session.js'), 'the pipeline is initialised on demand');
  assertLight(summary, 'summary');
  const report = runCovered(['report', '-o', '-', CURL]);
  assert.match(report.stdout, /^<!DOCTYPE html>/i);
  assert.ok(report.modules.includes('report/html/report.js'), 'report initialises the HTML report (so the checks above can fail)');
  assert.deepEqual(report.modules.filter((m) => m.startsWith('cli/run/')), ['cli/run/report.js']);
  const jobs = runCovered(['summary', '--jobs', '2', CURL, join(CAPTURES, 'mbsync.pcap')]);
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.ok(jobs.modules.includes('parallel/worker-thread.js'), 'worker threads ran from the bundle');
  assertLight(jobs, 'summary');
});
