/**
 * imapscope benchmark: generates synthetic IMAP captures (bench/gen-capture.ts) of two traffic mixes — `download`
 * (few sessions, whole messages as big literals) and `sync` (folder sync: many sessions, thousands of short FETCH
 * responses) — and measures, one program at a time, on the same file: `cat` (page-cache baseline), `imapscope
 * streams|commands|summary|fetches --json`, and their tshark counterparts (`-q -z conv,tcp` and `-Y imap -T fields
 * -e imap.request.command`). Then checks that imapscope's memory stays flat on a file 5x smaller (or, with
 * --scale, 5x larger), and prints both mixes' ratios to tshark side by side.
 *
 *   npm run bench                      # build, then 200 MiB of each mix
 *   node dist/bench/run.js [--mb 200] [--mix both|download|sync] [--keep] [--workdir DIR] [--reuse] [--runs N]
 *                          [--scale] [--seed N] [--concurrency N] [--skip-tshark] [--check] [--json FILE]
 *                          [--cli PATH/main.js] [--quiet-wait SECONDS]
 *
 * Generated captures go to a fresh directory under os.tmpdir() unless --workdir is given, and are deleted at the
 * end unless --keep. See docs/benchmarks.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCapture, type GenerateSummary, type TrafficMix } from './gen-capture.js';
import { fmt, machine, markdownTable, measure, MiB, ok, summarise, table, waitForQuiet, type Measurement } from './measure.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const DEFAULT_CLI = resolve(here, '../bundle/main.js');

/** Targets from the design. */
const TARGET_SPEEDUP = 10; // imapscope commands vs tshark -Y imap -T fields, same file
const TARGET_RSS_MIB = 150;
const FLAT_GROWTH = 1.2; // peak RSS on the 5x file may be at most 20 % above the small file's

interface Options {
  mb: number;
  /** The traffic mixes measured, in order (--mix both: download, then sync). */
  mixes: TrafficMix[];
  seed: number;
  concurrency: number;
  runs: number;
  keep: boolean;
  reuse: boolean;
  scale: boolean;
  skipTshark: boolean;
  check: boolean;
  workdir: string | undefined;
  json: string | undefined;
  /** The imapscope entry point to measure (default: this build's bin, dist/bundle/main.js). */
  cli: string;
  /** Seconds to wait, before each run, for other processes to leave the CPUs alone (0: do not wait). */
  quietWait: number;
}

interface Capture {
  path: string;
  mb: number;
  summary: GenerateSummary;
  generatedSeconds: number | null; // null when reused
}

interface Row {
  tool: string;
  command: string;
  /** The median run (peak RSS: the largest of all runs). */
  m: Measurement;
  /** Fastest successful run's wall seconds: the least disturbed by other load on a shared machine. */
  best: number;
  /** Median CPU seconds (user + sys), null without GNU time. */
  cpu: number | null;
  capture: Capture;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '200' },
      mix: { type: 'string', default: 'both' },
      seed: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '50' },
      runs: { type: 'string', default: '3' },
      keep: { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      'skip-tshark': { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      workdir: { type: 'string' },
      json: { type: 'string' },
      cli: { type: 'string' },
      'quiet-wait': { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: node dist/bench/run.js [--mb 200] [--mix both|download|sync] [--keep] [--workdir DIR] [--reuse] [--runs N] [--scale]\n' +
        '                              [--seed N] [--concurrency N] [--skip-tshark] [--check] [--json FILE]\n' +
        '                              [--cli PATH/main.js] [--quiet-wait SECONDS]\n',
    );
    process.exit(0);
  }
  const num = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got '${v}'`);
    return n;
  };
  if (values.mix !== 'download' && values.mix !== 'sync' && values.mix !== 'both') throw new Error(`--mix is both, download or sync, got '${values.mix}'`);
  return {
    mb: num('mb', values.mb, 1),
    mixes: values.mix === 'both' ? ['download', 'sync'] : [values.mix],
    seed: num('seed', values.seed, 0),
    concurrency: Math.max(1, Math.floor(num('concurrency', values.concurrency, 1))),
    runs: Math.max(1, Math.floor(num('runs', values.runs, 3))),
    keep: values.keep,
    reuse: values.reuse,
    scale: values.scale,
    skipTshark: values['skip-tshark'],
    check: values.check,
    workdir: values.workdir,
    json: values.json,
    cli: values.cli ? resolve(values.cli) : DEFAULT_CLI,
    quietWait: num('quiet-wait', values['quiet-wait'], 0),
  };
}

function log(s = ''): void {
  process.stdout.write(s + '\n');
}

/** Generates (or, with --reuse, finds) the capture for `mb` MiB; a .summary.json next to it keeps the counts. */
async function capture(dir: string, mb: number, o: Options & { mix: TrafficMix }): Promise<Capture> {
  const path = join(dir, `imap-${o.mix}-${mb}mib-seed${o.seed}-c${o.concurrency}.pcap`);
  const sidecar = path + '.summary.json';
  if (o.reuse && existsSync(path) && existsSync(sidecar)) {
    const summary = JSON.parse(readFileSync(sidecar, 'utf8')) as GenerateSummary;
    log(`reusing ${path}`);
    return { path, mb, summary, generatedSeconds: null };
  }
  process.stdout.write(`generating ${path} (${o.mix} mix, ${mb} MiB, seed ${o.seed}, ${o.concurrency} concurrent sessions) ... `);
  const t0 = performance.now();
  const summary = await generateCapture({ out: path, mb, seed: o.seed, concurrency: o.concurrency, mix: o.mix });
  const secs = (performance.now() - t0) / 1000;
  writeFileSync(sidecar, JSON.stringify(summary, null, 2) + '\n');
  log(`${secs.toFixed(1)} s`);
  log(
    `  ${(summary.bytes / MiB).toFixed(1)} MiB, ${summary.packets} packets, ${summary.sessions} sessions, ` +
      `${summary.commands} commands; damage: ${summary.lost} lost+retransmitted, ${summary.dup} duplicated, ` +
      `${summary.unseen} never captured, ${summary.late} reordered`,
  );
  return { path, mb, summary, generatedSeconds: secs };
}

interface Job {
  tool: string;
  cmd: string;
  args: string[];
  display: string;
  capture: Capture;
}

/**
 * Runs every job `runs` times, one program at a time, in rounds (job 1, 2, 3, job 1, 2, 3, ...) so that a noisy
 * moment on the machine does not land on one tool only; reports the median of each job's runs.
 */
async function benchAll(jobs: Job[], o: Options): Promise<Row[]> {
  const all = jobs.map(() => [] as Measurement[]);
  for (let round = 0; round < o.runs; round++) {
    for (const [i, job] of jobs.entries()) {
      const busy = o.quietWait > 0 ? await waitForQuiet(o.quietWait) : null;
      process.stdout.write(`  ${job.tool.padEnd(22)} run ${round + 1}/${o.runs} ... `);
      const m = await measure(job.cmd, job.args);
      all[i]!.push(m);
      const note = busy !== null && busy >= 0.2 ? ` (machine already ${(busy * 100).toFixed(0)} % busy before the run)` : '';
      if (note) busyRuns++;
      log(
        ok(m)
          ? `${m.seconds.toFixed(2)} s, ${fmt(m.maxRssKiB === null ? null : m.maxRssKiB / 1024)} MiB${note}`
          : `FAILED (exit ${m.exitCode ?? m.signal})\n${m.stderrTail.trim()}`,
      );
    }
  }
  return jobs.map((job, i) => {
    const good = all[i]!.filter(ok);
    const cpus = good.filter((m) => m.user !== null).map((m) => m.user! + m.sys!).sort((a, b) => a - b);
    return {
      tool: job.tool,
      command: job.display,
      m: summarise(all[i]!),
      best: good.length ? Math.min(...good.map((m) => m.seconds)) : NaN,
      cpu: cpus.length ? cpus[Math.floor((cpus.length - 1) / 2)]! : null,
      capture: job.capture,
    };
  });
}

let busyRuns = 0;

function rssMiB(r: Row): number | null {
  return r.m.maxRssKiB === null ? null : r.m.maxRssKiB / 1024;
}

function rowCells(r: Row): string[] {
  const s = r.m.seconds;
  return [
    r.tool,
    ok(r.m) ? s.toFixed(2) : 'FAILED',
    fmt(r.best, 2),
    fmt(r.capture.summary.bytes / MiB / s, 0),
    fmt(r.capture.summary.packets / s, 0),
    fmt(rssMiB(r), 1),
    fmt(r.cpu, 2),
  ];
}

const HEAD = ['tool', 'seconds (median)', 'best s', 'MiB/s', 'packets/s', 'peak RSS MiB', 'CPU s (user+sys)'];

interface MixResult {
  mix: TrafficMix;
  big: Capture;
  rows: Row[];
  flatRows: Row[];
  check: { found: number; generated: number } | null;
  speedup: { medianWall: number | null; bestWall: number | null; cpu: number | null };
  convSpeedup: number | null;
}

/** Everything measured on one traffic mix: the main file against tshark, then memory flatness on a 5x file. */
async function benchMix(dir: string, mix: TrafficMix, o: Options, skipTshark: boolean, made: string[]): Promise<MixResult> {
  const CLI = o.cli;
  const om = { ...o, mix };
  log(`=== ${mix} mix ${'='.repeat(90)}`);
  const big = await capture(dir, o.mb, om);
  if (big.generatedSeconds !== null) made.push(big.path, big.path + '.summary.json');
  const f = big.path;
  log();
  log(`imapscope: ${CLI}`);
  log(`measuring on ${f} (${o.runs} run${o.runs > 1 ? 's' : ''} each, median reported; one program at a time)`);
  await measure('cat', [f]); // warm the page cache, so every program below reads from memory alike
  const own = (view: string): Job => ({ tool: `imapscope ${view}`, cmd: CLI, args: [view, f, '--json'], display: `imapscope ${view} FILE --json > /dev/null`, capture: big });
  const jobs: Job[] = [
    { tool: 'cat (baseline)', cmd: 'cat', args: [f], display: 'cat FILE > /dev/null', capture: big },
    own('streams'), own('commands'), own('summary'), own('fetches'),
  ];
  if (!skipTshark) {
    jobs.push(
      { tool: 'tshark conv,tcp', cmd: 'tshark', args: ['-r', f, '-q', '-z', 'conv,tcp'],
        display: 'tshark -r FILE -q -z conv,tcp > /dev/null', capture: big },
      { tool: 'tshark -Y imap fields', cmd: 'tshark', args: ['-r', f, '-Y', 'imap', '-T', 'fields', '-e', 'imap.request.command'],
        display: 'tshark -r FILE -Y imap -T fields -e imap.request.command > /dev/null', capture: big },
    );
  }
  const rows = await benchAll(jobs, o);
  const byTool = (t: string) => rows.find((r) => r.tool === t);
  const streams = byTool('imapscope streams')!;
  const commands = byTool('imapscope commands')!;
  const conv = byTool('tshark conv,tcp');
  const fields = byTool('tshark -Y imap fields');

  // --- memory flatness ------------------------------------------------------------------------------------
  const otherMb = o.scale ? o.mb * 5 : Math.max(1, Math.round(o.mb / 5));
  log();
  log(`memory flatness: imapscope on a file 5x ${o.scale ? 'larger' : 'smaller'} (${otherMb} MiB)`);
  const other = await capture(dir, otherMb, om);
  if (other.generatedSeconds !== null) made.push(other.path, other.path + '.summary.json');
  await measure('cat', [other.path]);
  const flatRows = await benchAll([
    { tool: 'imapscope streams', cmd: CLI, args: ['streams', other.path, '--json'], display: 'imapscope streams FILE --json > /dev/null', capture: other },
    { tool: 'imapscope commands', cmd: CLI, args: ['commands', other.path, '--json'], display: 'imapscope commands FILE --json > /dev/null', capture: other },
  ], o);
  const [small, large] = o.scale ? [big, other] : [other, big];
  const pair = (tool: string) => {
    const a = [...rows, ...flatRows].filter((r) => r.tool === tool);
    return [a.find((r) => r.capture === small)!, a.find((r) => r.capture === large)!] as const;
  };

  // --- optional: does imapscope find the commands the generator wrote? ----------------------------------
  let check: { found: number; generated: number } | null = null;
  if (o.check) {
    log();
    process.stdout.write('check: counting the exchanges imapscope commands reports (untimed) ... ');
    const m = await measure(CLI, ['commands', f, '--json'], { stdout: 'capture' });
    const found = ok(m) ? (JSON.parse(m.stdout) as { exchanges: unknown[] }).exchanges.length : -1;
    check = { found, generated: big.summary.commands };
    log(`${found} exchanges; the generator wrote ${big.summary.commands} commands${found === big.summary.commands ? '' : ' — MISMATCH'}`);
    if (found !== big.summary.commands) process.exitCode = 1;
  }

  // --- report -------------------------------------------------------------------------------------------
  log();
  log(`results (${mix} mix): ${(big.summary.bytes / MiB).toFixed(1)} MiB, ${big.summary.packets} packets, ` +
    `${big.summary.sessions} IMAP sessions, ${big.summary.commands} commands`);
  log(table(HEAD, rows.map(rowCells)));
  log();
  for (const tool of ['imapscope summary', 'imapscope fetches']) {
    const r = byTool(tool)!;
    log(`${tool} takes ${(r.m.seconds / commands.m.seconds).toFixed(2)}x the time of imapscope commands` +
      (fields ? `; ${(fields.m.seconds / r.m.seconds).toFixed(1)}x faster than tshark -Y imap fields (median wall)` +
        (fields.cpu && r.cpu ? `, ${(fields.cpu / r.cpu).toFixed(1)}x by CPU time` : '') : ''));
  }
  const speedup = fields ? fields.m.seconds / commands.m.seconds : null;
  const speedupBest = fields ? fields.best / commands.best : null;
  const speedupCpu = fields?.cpu && commands.cpu ? fields.cpu / commands.cpu : null;
  const convSpeedup = conv ? conv.m.seconds / streams.m.seconds : null;
  if (speedup !== null) {
    const verdict = speedup >= TARGET_SPEEDUP && speedupBest! >= TARGET_SPEEDUP ? 'met'
      : speedup >= TARGET_SPEEDUP || speedupBest! >= TARGET_SPEEDUP ? 'borderline' : 'MISSED';
    log(`imapscope commands vs tshark -Y imap -T fields: ${speedup.toFixed(1)}x faster by median wall time, ` +
      `${speedupBest!.toFixed(1)}x by best run, ${fmt(speedupCpu)}x by CPU time ` +
      `(target >= ${TARGET_SPEEDUP}x wall: ${verdict})`);
  }
  if (convSpeedup !== null) {
    log(`imapscope streams vs tshark -z conv,tcp: ${convSpeedup.toFixed(1)}x faster by median wall time, ` +
      `${(conv!.best / streams.best).toFixed(1)}x by best run, ` +
      `${fmt(conv!.cpu && streams.cpu ? conv!.cpu / streams.cpu : null)}x by CPU time`);
  }
  const catSecs = byTool('cat (baseline)')!.m.seconds;
  log(`reading the file (cat) is ${((catSecs / commands.m.seconds) * 100).toFixed(1)} % of imapscope commands' wall time`);

  log();
  log(`memory flatness (peak RSS, ${(small.summary.bytes / MiB).toFixed(0)} MiB vs ${(large.summary.bytes / MiB).toFixed(0)} MiB file)`);
  const sz = (c: Capture) => `${(c.summary.bytes / MiB).toFixed(0)} MiB`;
  const flatHead = ['tool', `peak RSS MiB @${sz(small)}`, `peak RSS MiB @${sz(large)}`, 'growth', `s @${sz(small)}`, `s @${sz(large)}`];
  const flatCells: string[][] = [];
  const verdicts: string[] = [];
  for (const tool of ['imapscope streams', 'imapscope commands']) {
    const [a, b] = pair(tool);
    const ra = rssMiB(a);
    const rb = rssMiB(b);
    const growth = ra !== null && rb !== null ? rb / ra : null;
    flatCells.push([tool, fmt(ra), fmt(rb), growth === null ? '-' : `${growth.toFixed(2)}x`, a.m.seconds.toFixed(2), b.m.seconds.toFixed(2)]);
    if (tool === 'imapscope commands') {
      const peak = Math.max(ra ?? Infinity, rb ?? Infinity);
      verdicts.push(`peak RSS ${fmt(peak)} MiB (target < ${TARGET_RSS_MIB} MiB: ${peak < TARGET_RSS_MIB ? 'met' : 'MISSED'})`);
      verdicts.push(`growth ${growth === null ? '-' : growth.toFixed(2) + 'x'} for 5x the data ` +
        `(flat = at most ${FLAT_GROWTH}x: ${growth !== null && growth <= FLAT_GROWTH ? 'met' : 'MISSED'})`);
    }
  }
  log(table(flatHead, flatCells));
  for (const v of verdicts) log(`imapscope commands: ${v}`);
  log();
  log('markdown:');
  log(markdownTable(HEAD, rows.map(rowCells)));
  log();
  log(markdownTable(flatHead, flatCells));
  log();
  return { mix, big, rows, flatRows, check, speedup: { medianWall: speedup, bestWall: speedupBest, cpu: speedupCpu }, convSpeedup };
}

/** Both mixes next to each other: each view's ratio to tshark -Y imap fields, by wall and by CPU time, and its peak RSS. */
function sideBySide(results: MixResult[]): void {
  const head = ['imapscope view', ...results.flatMap((r) => [`${r.mix}: x tshark (wall)`, `${r.mix}: x tshark (CPU)`, `${r.mix}: peak RSS MiB`])];
  const cells = ['streams', 'commands', 'summary', 'fetches'].map((view) => [view, ...results.flatMap((r) => {
    const mine = r.rows.find((x) => x.tool === `imapscope ${view}`)!;
    const tshark = r.rows.find((x) => x.tool === (view === 'streams' ? 'tshark conv,tcp' : 'tshark -Y imap fields'));
    return [
      tshark ? fmt(tshark.m.seconds / mine.m.seconds, 1) : '-',
      tshark?.cpu && mine.cpu ? fmt(tshark.cpu / mine.cpu, 1) : '-',
      fmt(rssMiB(mine), 0),
    ];
  })]);
  log(`side by side (streams against tshark -z conv,tcp, the other views against tshark -Y imap -T fields; target >= ${TARGET_SPEEDUP}x):`);
  log(table(head, cells));
  log();
  log(markdownTable(head, cells));
}

async function main(): Promise<void> {
  const o = options();
  if (!existsSync(o.cli)) throw new Error(`${o.cli} is missing: build first (npm run build)`);
  const ownDir = o.workdir === undefined;
  const dir = o.workdir ? resolve(o.workdir) : mkdtempSync(join(tmpdir(), 'imapscope-bench-'));
  mkdirSync(dir, { recursive: true });
  const made: string[] = [];

  const env = machine();
  log('machine');
  for (const [k, v] of Object.entries(env)) log(`  ${k.padEnd(12)} ${v}`);
  log();

  const haveTshark = !env.tshark!.startsWith('not installed');
  const skipTshark = o.skipTshark || !haveTshark;
  if (!haveTshark) log('tshark is not installed: its rows are skipped\n');

  try {
    const results: MixResult[] = [];
    for (const mix of o.mixes) results.push(await benchMix(dir, mix, o, skipTshark, made));
    if (results.length > 1) sideBySide(results);

    if (o.json) {
      const dump = (r: Row) => ({
        tool: r.tool, command: r.command, file: r.capture.path, bytes: r.capture.summary.bytes,
        packets: r.capture.summary.packets, ...r.m, bestSeconds: r.best, cpuSeconds: r.cpu, stdout: undefined,
      });
      writeFileSync(o.json, JSON.stringify({
        machine: env, options: o, busyRuns,
        mixes: results.map((r) => ({
          mix: r.mix, capture: r.big.summary, results: r.rows.map(dump), flatness: r.flatRows.map(dump),
          speedupCommandsVsTshark: r.speedup, speedupStreamsVsConv: r.convSpeedup, check: r.check,
        })),
      }, null, 2) + '\n');
      log(`\nwrote ${o.json}`);
    }
    if (busyRuns > 0) log(`\nnote: ${busyRuns} run(s) started while other processes kept the machine busy; their times are less reliable`);
    const failed = results.flatMap((r) => [...r.rows, ...r.flatRows]).filter((r) => !ok(r.m));
    if (failed.length) {
      log(`\n${failed.length} run(s) failed: ${failed.map((r) => r.tool).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    if (!o.keep) {
      for (const p of made) rmSync(p, { force: true });
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    } else {
      log(`\nkept the captures in ${dir}`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
