/**
 * Many captures at once: generates N synthetic captures (bench/gen-capture.ts, one seed each) and measures
 * whole processes — `summary DIR` and `export DIR` — with --jobs 1 against --jobs 2 (wall time, CPU time
 * and peak RSS under GNU time), median of --runs runs.
 *
 *   node dist/bench/fleet.js [--count 100] [--mb 1] [--runs 3] [--keep DIR]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCapture } from './gen-capture.js';
import { fmt, machine, markdownTable, measure, measurementMethod, ok, summarise, waitForQuiet, type Measurement } from './measure.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'bundle', 'main.js');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '100' }, mb: { type: 'string', default: '1' }, runs: { type: 'string', default: '3' }, keep: { type: 'string' } } });
  const count = Number(values.count);
  const mb = Number(values.mb);
  const runs = Number(values.runs);
  const work = values.keep ?? mkdtempSync(join(tmpdir(), 'imapscope-fleet-bench-'));
  const dir = join(work, 'captures');
  mkdirSync(dir, { recursive: true });
  let commands = 0;
  for (let i = 0; i < count; i++) {
    const s = await generateCapture({ out: join(dir, `capture-${String(i).padStart(3, '0')}.pcap`), mb, seed: i + 1, concurrency: 4 });
    commands += s.commands;
  }
  console.log(`${count} captures of ${mb} MiB (${commands} commands in all) in ${dir}`);
  console.log(measurementMethod());
  for (const [k, v] of Object.entries(machine())) console.log(`${k}: ${v}`);

  const rows: string[][] = [];
  for (const view of ['summary', 'export']) {
    for (const jobs of ['1', '2']) {
      const all: Measurement[] = [];
      for (let r = 0; r < runs; r++) {
        await waitForQuiet(10);
        const out = join(work, `ds-${view}-${jobs}-${r}`);
        const args = view === 'summary' ? ['summary', dir, '--json', '--jobs', jobs] : ['export', dir, '--out', out, '--jobs', jobs];
        const m = await measure(CLI, args);
        if (!ok(m)) throw new Error(`${view} --jobs ${jobs} failed: ${m.stderrTail}`);
        all.push(m);
        rmSync(out, { recursive: true, force: true });
      }
      const m = summarise(all);
      rows.push([`${view} --jobs ${jobs}`, fmt(m.seconds, 2), fmt(m.user, 2), fmt(m.sys, 2), fmt(m.maxRssKiB === null ? null : m.maxRssKiB / 1024, 1)]);
    }
  }
  console.log(markdownTable(['command (N captures, one directory)', 'wall s', 'user s', 'sys s', 'peak RSS MiB'], rows));
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
