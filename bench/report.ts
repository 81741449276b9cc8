/**
 * Benchmark of the HTML report: how long `imapscope report` takes next to `imapscope summary` on the same
 * capture (both whole processes, one at a time), how big the page is, and how soon it is interactive in
 * chromium (the page's own "ready" mark, read through puppeteer-core) and how long opening a ladder takes.
 * Two captures: the bench capture of bench/gen-capture.ts, and a wide one of many short connections.
 *
 *   npm run build && node dist/bench/report.js [--mb 200] [--connections 5000] [--commands 18] [--runs 3]
 *                                              [--workdir DIR] [--keep] [--skip-browser] [--quiet-wait S]
 *
 * Captures and reports go to a fresh directory under os.tmpdir() unless --workdir is given, and are deleted
 * at the end unless --keep. Results: docs/benchmarks.md.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCapture } from './gen-capture.js';
import { fmt, machine, markdownTable, measure, MiB, ok, summarise, waitForQuiet, type Measurement } from './measure.js';
import { writeBusyCapture } from '../test/helpers/report-captures.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../bundle/main.js');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

function options() {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '200' },
      connections: { type: 'string', default: '5000' },
      commands: { type: 'string', default: '18' },
      runs: { type: 'string', default: '3' },
      workdir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'skip-browser': { type: 'boolean', default: false },
      'quiet-wait': { type: 'string', default: '60' },
    },
  });
  return {
    mb: Number(values.mb), connections: Number(values.connections), commands: Number(values.commands), runs: Math.max(1, Number(values.runs)),
    workdir: values.workdir, keep: values.keep, browser: !values['skip-browser'], quietWait: Number(values['quiet-wait']),
  };
}

const log = (s = '') => process.stdout.write(`${s}\n`);

async function timed(label: string, args: string[], runs: number, quietWait: number): Promise<Measurement & { cpu: number | null }> {
  const all: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    if (quietWait > 0) await waitForQuiet(quietWait);
    const m = await measure(CLI, args);
    if (!ok(m)) throw new Error(`${label} failed (exit ${m.exitCode ?? m.signal}): ${m.stderrTail}`);
    log(`  ${label.padEnd(10)} run ${i + 1}/${runs}: ${m.seconds.toFixed(2)} s, CPU ${fmt(cpuSeconds(m), 2)} s, ${fmt(m.maxRssKiB === null ? null : m.maxRssKiB / 1024)} MiB`);
    all.push(m);
  }
  // CPU time is what other work on a shared machine disturbs least: report its median next to the wall time's.
  const cpu = all.map(cpuSeconds).filter((c): c is number => c !== null).sort((a, b) => a - b);
  return { ...summarise(all), cpu: cpu.length ? cpu[Math.floor((cpu.length - 1) / 2)]! : null };
}

function cpuSeconds(m: Measurement): number | null {
  return m.user === null || m.sys === null ? null : m.user + m.sys;
}

interface PageTiming {
  readyMs: number;
  ladderMs: number;
}

/** Open the report in chromium: time to the page's ready mark, then the time a click on the busiest lane takes to show its ladder. */
async function pageTiming(file: string): Promise<PageTiming> {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(file).href, { timeout: 300_000 });
    await page.waitForSelector('html[data-ready]', { timeout: 300_000 });
    const readyMs = await page.evaluate('performance.getEntriesByName("imapscope-ready")[0].startTime') as number;
    const lane = await page.$('#c0 [data-conn]');
    const t0 = Date.now();
    await lane!.click();
    await page.waitForSelector('#c0 .ladder .ex');
    return { readyMs, ladderMs: Date.now() - t0 };
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const o = options();
  const dir = o.workdir ?? mkdtempSync(join(tmpdir(), 'imapscope-report-bench-'));
  mkdirSync(dir, { recursive: true });
  const rows: string[][] = [];
  try {
    const bench = join(dir, `imap-${o.mb}mib.pcap`);
    log(`generating ${bench} ...`);
    const g = await generateCapture({ out: bench, mb: o.mb, seed: 1, concurrency: 50 });
    log(`  ${(g.bytes / MiB).toFixed(1)} MiB, ${g.sessions} sessions, ${g.commands} commands`);
    const wide = join(dir, `wide-${o.connections}.pcap`);
    log(`generating ${wide} ...`);
    writeBusyCapture(wide, { connections: o.connections, commands: o.commands, firstCommands: o.commands });
    const wideCommands = o.connections * (o.commands + 2);
    log(`  ${(statSync(wide).size / MiB).toFixed(1)} MiB, ${o.connections} connections, ${wideCommands} commands`);

    for (const [name, file, what] of [['bench', bench, `${g.sessions} connections, ${g.commands} commands`], ['wide', wide, `${o.connections} connections, ${wideCommands} commands`]] as const) {
      log(`${name}: ${file}`);
      const out = join(dir, `${name}.html`);
      const summary = await timed('summary', ['summary', file], o.runs, o.quietWait);
      const report = await timed('report', ['report', file, '-o', out], o.runs, o.quietWait);
      const page = o.browser && CHROMIUM ? await pageTiming(out) : null;
      rows.push([
        `${name} (${(statSync(file).size / MiB).toFixed(0)} MiB, ${what})`,
        summary.seconds.toFixed(2), report.seconds.toFixed(2), fmt(summary.cpu, 2), fmt(report.cpu, 2),
        summary.cpu && report.cpu ? `${(report.cpu / summary.cpu).toFixed(1)}x` : '-',
        fmt(summary.maxRssKiB === null ? null : summary.maxRssKiB / 1024, 0), fmt(report.maxRssKiB === null ? null : report.maxRssKiB / 1024, 0),
        (statSync(out).size / MiB).toFixed(1), page ? page.readyMs.toFixed(0) : '-', page ? String(page.ladderMs) : '-',
      ]);
    }
    log();
    for (const [k, v] of Object.entries(machine())) log(`${k}: ${v}`);
    log();
    log(markdownTable(['capture', 'summary s', 'report s', 'summary CPU s', 'report CPU s', 'report/summary (CPU)', 'summary MiB', 'report MiB', 'page MiB', 'ready ms', 'ladder ms'], rows));
  } finally {
    if (!o.keep && !o.workdir) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/report: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
